using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Topics;

/// <summary>Receives the entries of a <see cref="TopicNameIndex{T}"/> whose topic matches a filter.</summary>
public interface ITopicNameVisitor<T>
{
    void OnMatch(string topicName, T value);
}

/// <summary>
/// Values keyed by Topic Name, searchable by Topic Filter: the broker's retained messages. When a
/// client subscribes, <see cref="FindMatching{TVisitor}(string, ref TVisitor)"/> yields the retained
/// message of every topic its filter matches (3.3.1.3), with the same rules as subscription matching.
/// </summary>
/// <remarks>
/// The same trie as <see cref="SubscriptionTree{T}"/> with the roles turned round: the stored keys
/// are plain topic names and the query holds the wildcards, so a '+' in the filter walks every child
/// of a level and a '#' walks the whole subtree below it. Readers (TryGet, FindMatching) take no
/// locks and may run while writers (Set, Remove, serialized by a lock) change the index; each value
/// is published as one immutable entry, so a reader never sees a topic with another topic's value.
/// Nodes left empty by Remove are unlinked at once.
/// </remarks>
public sealed class TopicNameIndex<T>
{
    private readonly Node _root = new(string.Empty);
    private readonly Lock _writeLock = new();
    private readonly LevelNameInterner _levelNames = new();

    // The nodes from the root to the one a Remove works on, kept to prune upwards; writer only.
    private readonly List<Node> _removalPath = [];

    private int _count;
    private int _nodeCount;

    /// <summary>Topics that hold a value.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Trie nodes below the root; returns to 0 when every topic is removed.</summary>
    public int NodeCount => Volatile.Read(ref _nodeCount);

    /// <summary>Stores <paramref name="value"/> for <paramref name="topicName"/>, replacing any previous one.</summary>
    /// <returns>True when the topic had no value before.</returns>
    /// <exception cref="MqttProtocolException">Not a valid Topic Name (empty, or with a wildcard or U+0000).</exception>
    public bool Set(string topicName, T value)
    {
        ThrowIfInvalidTopicName(topicName);
        var entry = new Entry(topicName, value);
        lock (_writeLock)
        {
            var node = _root;
            foreach (var range in topicName.AsSpan().Split('/'))
            {
                var level = topicName.AsSpan(range);
                if (node.FindChildNode(level) is not { } child)
                {
                    child = new Node(_levelNames.GetOrCreate(level));
                    node.AddChild(child);
                    Volatile.Write(ref _nodeCount, _nodeCount + 1);
                }

                node = child;
            }

            var added = node.Entry is null;
            node.Entry = entry;
            if (added)
            {
                Volatile.Write(ref _count, _count + 1);
            }

            return added;
        }
    }

    /// <summary>Removes the value of <paramref name="topicName"/>; false when there was none.</summary>
    public bool Remove(string topicName)
    {
        ArgumentNullException.ThrowIfNull(topicName);
        lock (_writeLock)
        {
            try
            {
                var node = _root;
                _removalPath.Add(node);
                foreach (var range in topicName.AsSpan().Split('/'))
                {
                    if (node.FindChildNode(topicName.AsSpan(range)) is not { } child)
                    {
                        return false;
                    }

                    _removalPath.Add(child);
                    node = child;
                }

                if (node.Entry is null)
                {
                    return false;
                }

                node.Entry = null;
                Volatile.Write(ref _count, _count - 1);
                for (var i = _removalPath.Count - 1; i > 0 && _removalPath[i].IsEmpty; i--)
                {
                    _removalPath[i - 1].RemoveChild(_removalPath[i]);
                    Volatile.Write(ref _nodeCount, _nodeCount - 1);
                }

                return true;
            }
            finally
            {
                _removalPath.Clear();
            }
        }
    }

    /// <summary>The value stored for exactly this topic name.</summary>
    public bool TryGet(ReadOnlySpan<char> topicName, [MaybeNullWhen(false)] out T value)
    {
        var node = _root;
        foreach (var range in topicName.Split('/'))
        {
            if (node.FindChildNode(topicName[range]) is not { } child)
            {
                value = default;
                return false;
            }

            node = child;
        }

        if (node.Entry is { } entry)
        {
            value = entry.Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Calls <paramref name="onMatch"/> for every stored topic that <paramref name="topicFilter"/> matches.</summary>
    /// <exception cref="MqttProtocolException">Not a valid Topic Filter.</exception>
    public void FindMatching(string topicFilter, Action<string, T> onMatch)
    {
        ArgumentNullException.ThrowIfNull(onMatch);
        var visitor = new CallbackVisitor(onMatch);
        FindMatching(topicFilter, ref visitor);
    }

    /// <summary>
    /// Reports every stored topic that <paramref name="topicFilter"/> matches (4.7), honouring
    /// [MQTT-4.7.2-1]: a filter starting with a wildcard skips topics starting with '$'. Pass the
    /// filter without any <c>$share/{ShareName}/</c> prefix.
    /// </summary>
    /// <exception cref="MqttProtocolException">Not a valid Topic Filter.</exception>
    public void FindMatching<TVisitor>(string topicFilter, ref TVisitor visitor)
        where TVisitor : ITopicNameVisitor<T>, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        if (TopicFilter.Validate(topicFilter) is { } error)
        {
            throw error;
        }

        // Wildcards fan out over children; the pending fan-outs are kept on an explicit stack rather
        // than by recursion, because topics and filters may have thousands of levels [MQTT-4.7.3-3].
        var walk = new FilterWalk(topicFilter);
        try
        {
            walk.Descend(_root, 0, ref visitor);
            while (walk.TryNextFanOut(out var child, out var filterPosition, out var reportSubtree))
            {
                if (reportSubtree)
                {
                    child.Report(ref visitor);
                    walk.Push(child, FilterWalk.WholeSubtree, skipDollarLevels: false);
                }
                else
                {
                    walk.Descend(child, filterPosition, ref visitor);
                }
            }
        }
        finally
        {
            walk.Dispose();
        }
    }

    private static void ThrowIfInvalidTopicName(string topicName)
    {
        ArgumentNullException.ThrowIfNull(topicName);
        if (topicName.Length == 0)
        {
            throw new MqttProtocolException(ReasonCode.TopicNameInvalid, "MQTT-4.7.3-1", "Topic Name is empty");
        }

        if (topicName.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            throw new MqttProtocolException(ReasonCode.TopicNameInvalid, "MQTT-3.3.2-2", $"Topic Name '{topicName}' contains a wildcard character");
        }

        if (topicName.Contains('\0', StringComparison.Ordinal))
        {
            throw new MqttProtocolException(ReasonCode.TopicNameInvalid, "MQTT-1.5.4-2", "Topic Name contains U+0000");
        }
    }

    private readonly struct CallbackVisitor(Action<string, T> onMatch) : ITopicNameVisitor<T>
    {
        public void OnMatch(string topicName, T value) => onMatch(topicName, value);
    }

    private sealed class Entry(string topicName, T value)
    {
        public string TopicName { get; } = topicName;

        public T Value { get; } = value;
    }

    private sealed class Node(string level) : TrieNode(level)
    {
        private Entry? _entry;

        public Entry? Entry
        {
            get => Volatile.Read(ref _entry);
            set => Volatile.Write(ref _entry, value);
        }

        /// <summary>Writer side: nothing left that justifies keeping the node.</summary>
        public bool IsEmpty => _entry is null && !HasChildren;

        // Every child of a Node is a Node: only this class's writer adds children.
        public Node? FindChildNode(ReadOnlySpan<char> level) => System.Runtime.CompilerServices.Unsafe.As<Node?>(FindChild(level));

        public void Report<TVisitor>(ref TVisitor visitor)
            where TVisitor : ITopicNameVisitor<T>, allows ref struct
        {
            if (Entry is { } entry)
            {
                visitor.OnMatch(entry.TopicName, entry.Value);
            }
        }
    }

    /// <summary>The state of one FindMatching: the filter and the stack of pending fan-outs.</summary>
    private struct FilterWalk(string filter)
    {
        /// <summary>Marks a fan-out that reports a whole subtree ('#') rather than continuing the filter.</summary>
        public const int WholeSubtree = -1;

        private FanOut[] _stack = ArrayPool<FanOut>.Shared.Rent(16);
        private int _depth;

        /// <summary>
        /// Follows the filter from <paramref name="node"/>, whose level the filter position
        /// <paramref name="position"/> comes after, through exact levels until it ends or meets a wildcard.
        /// </summary>
        public void Descend<TVisitor>(Node node, int position, ref TVisitor visitor)
            where TVisitor : ITopicNameVisitor<T>, allows ref struct
        {
            while (true)
            {
                if (position > filter.Length)
                {
                    node.Report(ref visitor);
                    return;
                }

                var rest = filter.AsSpan(position);
                var slash = rest.IndexOf('/');
                var level = slash < 0 ? rest : rest[..slash];
                var nextPosition = position + level.Length + 1;

                // Only the first level of a topic can start with '$', so the rule bites at the root alone.
                var atRoot = position == 0;
                switch (level)
                {
                    case "#":
                        // '#' also matches the parent level: "sport/#" matches "sport" (4.7.1.2).
                        node.Report(ref visitor);
                        Push(node, WholeSubtree, skipDollarLevels: atRoot);
                        return;
                    case "+":
                        Push(node, nextPosition, skipDollarLevels: atRoot);
                        return;
                    default:
                        if (node.FindChildNode(level) is not { } child)
                        {
                            return;
                        }

                        node = child;
                        position = nextPosition;
                        break;
                }
            }
        }

        public void Push(Node node, int filterPosition, bool skipDollarLevels)
        {
            if (_depth == _stack.Length)
            {
                var grown = ArrayPool<FanOut>.Shared.Rent(_stack.Length * 2);
                _stack.AsSpan().CopyTo(grown);
                ArrayPool<FanOut>.Shared.Return(_stack, clearArray: true);
                _stack = grown;
            }

            _stack[_depth++] = new FanOut(node.EnumerateChildren(), filterPosition, skipDollarLevels);
        }

        public bool TryNextFanOut([NotNullWhen(true)] out Node? child, out int filterPosition, out bool reportSubtree)
        {
            while (_depth > 0)
            {
                ref var top = ref _stack[_depth - 1];
                if (!top.Children.MoveNext())
                {
                    top = default;
                    _depth--;
                    continue;
                }

                // A filter starting with a wildcard does not match topics starting with '$' [MQTT-4.7.2-1].
                if (top.SkipDollarLevels && top.Children.Current.Level.StartsWith('$'))
                {
                    continue;
                }

                child = System.Runtime.CompilerServices.Unsafe.As<Node>(top.Children.Current);
                filterPosition = top.FilterPosition;
                reportSubtree = top.FilterPosition == WholeSubtree;
                return true;
            }

            child = null;
            filterPosition = 0;
            reportSubtree = false;
            return false;
        }

        public readonly void Dispose() => ArrayPool<FanOut>.Shared.Return(_stack, clearArray: true);
    }

    private struct FanOut(TrieNode.ChildEnumerator children, int filterPosition, bool skipDollarLevels)
    {
        public TrieNode.ChildEnumerator Children = children;

        public readonly int FilterPosition = filterPosition;

        public readonly bool SkipDollarLevels = skipDollarLevels;
    }
}
