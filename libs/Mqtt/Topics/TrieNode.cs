using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Platform.Mqtt.Topics;

/// <summary>
/// One level of a topic trie (<see cref="SubscriptionTree{T}"/>, <see cref="TopicNameIndex{T}"/>) and
/// its exact-level children. Readers never lock; one writer at a time (the owner's lock) changes it.
/// </summary>
/// <remarks>
/// Most nodes of a broker's trie have zero or one child (<c>vehicles/{vin}/commands</c>: the VIN node
/// has only <c>commands</c>), a few have many (<c>vehicles</c> has one per VIN). The children are
/// therefore held as null, the single child itself, an immutable array of up to
/// <see cref="MaxArrayChildren"/>, or a <see cref="ChildMap"/> beyond that, so the common node pays
/// for one reference and no collection. Every form is fully built before it is published with a
/// volatile write, and a published array is never changed again, so a reader always sees a
/// consistent set. The class is not generic so this lookup code is compiled once and its type tests
/// are plain method-table compares, whatever the owner's value type.
/// </remarks>
internal abstract class TrieNode
{
    /// <summary>Above this many children a node switches from an array (linear scan) to a hash map.</summary>
    internal const int MaxArrayChildren = 8;

    /// <summary>A map shrinks back to an array at this size; the gap avoids flapping around one size.</summary>
    internal const int ShrinkToArrayChildren = MaxArrayChildren / 2;

    // null | TrieNode (one child) | TrieNode[] (2..MaxArrayChildren, immutable) | ChildMap.
    private object? _children;

    protected TrieNode(string level) => Level = level;

    /// <summary>The level this node stands for, e.g. <c>commands</c>, <c>+</c>, or empty for an empty level.</summary>
    public string Level { get; }

    /// <summary>Writer side: whether any exact-level child exists.</summary>
    public bool HasChildren => _children is not null;

    public TrieNode? FindChild(ReadOnlySpan<char> level)
    {
        var children = Volatile.Read(ref _children);
        if (children is null)
        {
            return null;
        }

        // Exact type compares: arrays are only ever created as TrieNode[] and ChildMap is sealed.
        if (children.GetType() == typeof(TrieNode[]))
        {
            foreach (var child in Unsafe.As<TrieNode[]>(children))
            {
                if (level.SequenceEqual(child.Level))
                {
                    return child;
                }
            }

            return null;
        }

        if (children.GetType() == typeof(ChildMap))
        {
            return Unsafe.As<ChildMap>(children).Find(level);
        }

        // Nothing else is ever stored, so this is the single-child form.
        var single = Unsafe.As<TrieNode>(children);
        return level.SequenceEqual(single.Level) ? single : null;
    }

    /// <summary>Writer side (owner's lock held): adds a child whose level is not present yet.</summary>
    public void AddChild(TrieNode child)
    {
        switch (_children)
        {
            case null:
                Volatile.Write(ref _children, child);
                break;
            case ChildMap map:
                map.Add(child);
                break;
            case TrieNode[] array when array.Length < MaxArrayChildren:
                var grown = new TrieNode[array.Length + 1];
                array.CopyTo(grown, 0);
                grown[^1] = child;
                Volatile.Write(ref _children, grown);
                break;
            case TrieNode[] array:
                Volatile.Write(ref _children, new ChildMap(array, child));
                break;
            case TrieNode single:
                Volatile.Write(ref _children, new[] { single, child });
                break;
        }
    }

    /// <summary>Writer side (owner's lock held): removes a child previously added.</summary>
    public void RemoveChild(TrieNode child)
    {
        switch (_children)
        {
            case TrieNode single when ReferenceEquals(single, child):
                Volatile.Write(ref _children, null);
                break;
            case TrieNode[] array:
                var index = Array.IndexOf(array, child);
                if (index < 0)
                {
                    return;
                }

                if (array.Length == 2)
                {
                    Volatile.Write(ref _children, array[1 - index]);
                    return;
                }

                var shrunk = new TrieNode[array.Length - 1];
                array.AsSpan(0, index).CopyTo(shrunk);
                array.AsSpan(index + 1).CopyTo(shrunk.AsSpan(index));
                Volatile.Write(ref _children, shrunk);
                break;
            case ChildMap map:
                map.Remove(child);
                if (map.Count <= ShrinkToArrayChildren)
                {
                    // A fresh array releases the map's bucket table, which never shrinks on its own.
                    // Readers still holding the map see a valid (now frozen) set of children.
                    var remaining = map.ToArray();
                    Volatile.Write<object?>(ref _children, remaining.Length switch
                    {
                        0 => null,
                        1 => remaining[0],
                        _ => remaining,
                    });
                }

                break;
        }
    }

    /// <summary>Enumerates a snapshot-or-later view of the children without locking.</summary>
    public ChildEnumerator EnumerateChildren() => new(Volatile.Read(ref _children));

    /// <summary>
    /// Walks whichever child form was read. For a map it uses the concurrent dictionary's own
    /// enumerator, which is safe under concurrent changes and takes no locks.
    /// </summary>
    internal struct ChildEnumerator
    {
        private readonly object? _children;
        private IEnumerator<KeyValuePair<string, TrieNode>>? _mapEnumerator;
        private int _index;

        public ChildEnumerator(object? children)
        {
            _children = children;
            _index = -1;
            Current = null!;
        }

        public TrieNode Current { get; private set; }

        public bool MoveNext()
        {
            switch (_children)
            {
                case null:
                    return false;
                case TrieNode[] array:
                    if (++_index < array.Length)
                    {
                        Current = array[_index];
                        return true;
                    }

                    return false;
                case ChildMap map:
                    _mapEnumerator ??= map.GetEnumerator();
                    if (_mapEnumerator.MoveNext())
                    {
                        Current = _mapEnumerator.Current.Value;
                        return true;
                    }

                    return false;
                default:
                    if (++_index == 0)
                    {
                        Current = Unsafe.As<TrieNode>(_children);
                        return true;
                    }

                    return false;
            }
        }
    }

    /// <summary>
    /// The children of a node with many of them, keyed by level. Lookups by span go through the
    /// dictionary's alternate lookup so matching a topic never allocates a string. Only the owner's
    /// writer changes it, so one lock stripe suffices and the count is tracked here instead of
    /// asking the dictionary (which would take its locks).
    /// </summary>
    private sealed class ChildMap
    {
        private readonly ConcurrentDictionary<string, TrieNode> _nodes;
        private readonly ConcurrentDictionary<string, TrieNode>.AlternateLookup<ReadOnlySpan<char>> _nodesBySpan;

        public ChildMap(TrieNode[] existing, TrieNode added)
        {
            _nodes = new ConcurrentDictionary<string, TrieNode>(concurrencyLevel: 1, capacity: 4 * MaxArrayChildren, StringComparer.Ordinal);
            _nodesBySpan = _nodes.GetAlternateLookup<ReadOnlySpan<char>>();
            foreach (var node in existing)
            {
                Add(node);
            }

            Add(added);
        }

        public int Count { get; private set; }

        public TrieNode? Find(ReadOnlySpan<char> level) => _nodesBySpan.TryGetValue(level, out var node) ? node : null;

        public void Add(TrieNode node)
        {
            if (_nodes.TryAdd(node.Level, node))
            {
                Count++;
            }
        }

        public void Remove(TrieNode node)
        {
            if (_nodes.TryRemove(new KeyValuePair<string, TrieNode>(node.Level, node)))
            {
                Count--;
            }
        }

        public TrieNode[] ToArray()
        {
            var array = new TrieNode[Count];
            var index = 0;
            foreach (var pair in _nodes)
            {
                array[index++] = pair.Value;
            }

            return array;
        }

        public IEnumerator<KeyValuePair<string, TrieNode>> GetEnumerator() => _nodes.GetEnumerator();
    }
}
