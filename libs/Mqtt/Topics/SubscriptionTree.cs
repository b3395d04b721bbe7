using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace Platform.Mqtt.Topics;

/// <summary>Receives the subscriptions that match a topic, from <see cref="SubscriptionTree{T}.Match{TVisitor}(ReadOnlySpan{char}, ref TVisitor)"/>.</summary>
/// <remarks>
/// A struct (or ref struct) visitor is called without boxing or delegates, so matching allocates
/// nothing. The callbacks run on the matching thread, inside the walk: keep them short and do not
/// change the tree from them.
/// </remarks>
public interface ISubscriptionVisitor<T>
{
    /// <summary>A non-shared subscription whose filter matches. A subscriber with several matching filters is reported once per filter.</summary>
    void OnSubscriber(string subscriberId, T value);

    /// <summary>A shared subscription group whose filter matches; reported once per matching (ShareName, filter).</summary>
    void OnSharedGroup(SharedSubscriptionGroup<T> group);
}

/// <summary>
/// The broker's subscription index: topic filters (with <c>+</c>, <c>#</c> and
/// <c>$share/{ShareName}/</c>) of every session, answering "who receives a message published to
/// this topic" without locks and without allocating.
/// </summary>
/// <remarks>
/// <para>
/// A trie keyed by topic level. Each node holds the exact-level children (see <see cref="TrieNode"/>)
/// and, separately, its <c>+</c> and <c>#</c> children, so a match follows one exact child and at
/// most the two wildcard children per level: its cost depends on the topic's depth and on the
/// filters that actually match, not on how many unrelated subscriptions exist.
/// </para>
/// <para>
/// Concurrency: any number of threads may call Match while others Add and Remove. Writers are
/// serialized by a lock; they build every new array or object completely and publish it with one
/// volatile write, and never change a published array, so readers see either the old or the new
/// state of each node and never a torn one. A subscription that exists during a whole Match is
/// always reported; one added or removed during it may or may not be.
/// </para>
/// <para>
/// Memory: a subscription to <c>vehicles/{vin}/commands</c> costs two nodes (the VIN level and its
/// <c>commands</c> level, 48 bytes each), the VIN string, a one-element subscriber array and an entry in
/// the parent's child map; docs/benchmarks.md has the measured figure. Nodes left empty by Remove are
/// unlinked at once, so memory returns after unsubscribing.
/// </para>
/// </remarks>
public sealed class SubscriptionTree<T>
{
    /// <summary>Up to this many non-shared subscribers of one filter live in an immutable array.</summary>
    private const int MaxArraySubscribers = 16;

    /// <summary>UTF-8 topics up to this length are decoded on the stack; longer ones use a pooled buffer.</summary>
    private const int MaxStackDecodedTopic = 2048;

    private readonly Node _root = new(string.Empty);
    private readonly Lock _writeLock = new();
    private readonly LevelNameInterner _levelNames = new();

    // The nodes from the root to the one a Remove works on, kept to prune upwards; writer only.
    private readonly List<Node> _removalPath = [];

    private int _count;
    private int _nodeCount;

    /// <summary>Subscriptions held: non-shared entries plus shared group memberships.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Trie nodes below the root; returns to 0 when every subscription is removed.</summary>
    public int NodeCount => Volatile.Read(ref _nodeCount);

    /// <summary>
    /// Adds a subscription, or replaces the value of the same subscriber's subscription to the same
    /// filter [MQTT-3.8.4-3] (for a shared one: same ShareName and filter). <c>$share/{group}/{filter}</c>
    /// makes the subscriber a member of that shared group on <c>filter</c> (4.8.2).
    /// </summary>
    /// <returns>True when the subscription is new, false when it replaced an existing one.</returns>
    /// <exception cref="Protocol.MqttProtocolException">The filter is not a valid Topic Filter (4.7.1, 4.7.3, 4.8.2).</exception>
    public bool Add(string topicFilter, string subscriberId, T value)
    {
        ArgumentNullException.ThrowIfNull(subscriberId);
        var (filter, shareName) = Parse(topicFilter);
        lock (_writeLock)
        {
            var node = GetOrCreateNode(filter);
            var added = shareName is null
                ? node.AddOrReplaceSubscriber(subscriberId, value)
                : node.GetOrCreateSharedGroup(shareName, filter).AddOrReplace(subscriberId, value);
            if (added)
            {
                Volatile.Write(ref _count, _count + 1);
            }

            return added;
        }
    }

    /// <summary>Removes a subscription added with the same filter string and subscriber.</summary>
    /// <returns>False when there was no such subscription.</returns>
    /// <exception cref="Protocol.MqttProtocolException">The filter is not a valid Topic Filter.</exception>
    public bool Remove(string topicFilter, string subscriberId)
    {
        ArgumentNullException.ThrowIfNull(subscriberId);
        var (filter, shareName) = Parse(topicFilter);
        lock (_writeLock)
        {
            try
            {
                if (!FindPath(filter, _removalPath))
                {
                    return false;
                }

                var node = _removalPath[^1];
                var removed = shareName is null
                    ? node.RemoveSubscriber(subscriberId)
                    : node.RemoveSharedGroupMember(shareName, subscriberId);
                if (!removed)
                {
                    return false;
                }

                Volatile.Write(ref _count, _count - 1);
                Prune(_removalPath);
                return true;
            }
            finally
            {
                _removalPath.Clear();
            }
        }
    }

    /// <summary>
    /// Reports every subscription whose filter matches <paramref name="topic"/> to
    /// <paramref name="visitor"/> (4.7). Lock-free and allocation-free.
    /// </summary>
    /// <param name="topic">A valid Topic Name (non-empty, no wildcards); the broker has checked it when decoding the PUBLISH.</param>
    public void Match<TVisitor>(scoped ReadOnlySpan<char> topic, ref TVisitor visitor)
        where TVisitor : ISubscriptionVisitor<T>, allows ref struct
    {
        // Filters starting with a wildcard do not match topics starting with '$' [MQTT-4.7.2-1]:
        // at the root only, such a topic skips the '+' and '#' children.
        var rootWildcardsApply = topic.IsEmpty || topic[0] != '$';

        // Where the walk forks (a level matched both exactly and by '+'), one branch waits here.
        // Topics are at most 65,535 bytes [MQTT-4.7.3-3] and may have thousands of levels, so the
        // walk keeps its own stack instead of recursing: inline for the usual few forks, pooled beyond.
        var inlineForks = new ForkBuffer();
        Span<Fork> forks = inlineForks;
        Fork[]? pooledForks = null;
        var forkCount = 0;

        var node = _root;

        // Start of the topic level this node's children are matched against; past the end
        // (topic.Length + 1) once every level has been consumed.
        var position = 0;
        while (true)
        {
            var wildcards = node.Wildcards;
            Node? exact = null;
            Node? singleLevel = null;
            var nextPosition = 0;
            if (position > topic.Length)
            {
                // The topic ends at this node: its own subscriptions match, and so does a '#' below it,
                // because '#' includes the parent level ("sport/tennis/#" matches "sport/tennis", 4.7.1.2).
                node.VisitSubscriptions(ref visitor);
                wildcards?.MultiLevel?.VisitSubscriptions(ref visitor);
            }
            else
            {
                if (wildcards is not null && (position > 0 || rootWildcardsApply))
                {
                    // '#' matches any number of remaining levels (4.7.1.2).
                    wildcards.MultiLevel?.VisitSubscriptions(ref visitor);
                    singleLevel = wildcards.SingleLevel;
                }

                var rest = topic[position..];
                var slash = rest.IndexOf('/');
                var level = slash < 0 ? rest : rest[..slash];
                nextPosition = position + level.Length + 1;
                exact = node.FindChildNode(level);
            }

            if (exact is not null && singleLevel is not null)
            {
                if (forkCount == forks.Length)
                {
                    forks = GrowForks(forks, ref pooledForks);
                }

                forks[forkCount++] = new Fork(singleLevel, nextPosition);
            }

            if ((exact ?? singleLevel) is { } next)
            {
                node = next;
                position = nextPosition;
            }
            else if (forkCount > 0)
            {
                (node, position) = forks[--forkCount];
            }
            else
            {
                break;
            }
        }

        // Not in a finally: if a visitor throws, the pool simply does not get this array back.
        if (pooledForks is not null)
        {
            ArrayPool<Fork>.Shared.Return(pooledForks, clearArray: true);
        }
    }

    /// <summary>
    /// <see cref="Match{TVisitor}(ReadOnlySpan{char}, ref TVisitor)"/> for a topic as UTF-8 bytes from
    /// the wire. Decodes into a stack buffer (a pooled one beyond 2,048 bytes), so it does not allocate.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes are not well-formed UTF-8 [MQTT-1.5.4-1].</exception>
    public void Match<TVisitor>(scoped ReadOnlySpan<byte> utf8Topic, ref TVisitor visitor)
        where TVisitor : ISubscriptionVisitor<T>, allows ref struct
    {
        // UTF-8 never needs more UTF-16 code units than it has bytes.
        if (utf8Topic.Length <= MaxStackDecodedTopic)
        {
            Span<char> buffer = stackalloc char[utf8Topic.Length];
            Match(buffer[..DecodeTopic(utf8Topic, buffer)], ref visitor);
            return;
        }

        var pooled = ArrayPool<char>.Shared.Rent(utf8Topic.Length);
        try
        {
            Match(pooled.AsSpan(0, DecodeTopic(utf8Topic, pooled)), ref visitor);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(pooled);
        }
    }

    private static int DecodeTopic(ReadOnlySpan<byte> utf8Topic, Span<char> buffer)
    {
        // No replacement characters: a U+FFFD invented here could match a filter that names it [MQTT-4.7.3-4].
        if (Utf8.ToUtf16(utf8Topic, buffer, out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            throw new ArgumentException("The topic is not well-formed UTF-8 [MQTT-1.5.4-1].", nameof(utf8Topic));
        }

        return written;
    }

    private static Span<Fork> GrowForks(Span<Fork> forks, ref Fork[]? pooledForks)
    {
        var grown = ArrayPool<Fork>.Shared.Rent(forks.Length * 2);
        forks.CopyTo(grown);
        if (pooledForks is not null)
        {
            ArrayPool<Fork>.Shared.Return(pooledForks, clearArray: true);
        }

        pooledForks = grown;
        return grown;
    }

    private static (string Filter, string? ShareName) Parse(string topicFilter)
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        if (SharedSubscription.TryParse(topicFilter, out var shared))
        {
            return (shared.TopicFilter, shared.ShareName);
        }

        if (TopicFilter.Validate(topicFilter) is { } error)
        {
            throw error;
        }

        return (topicFilter, null);
    }

    private Node GetOrCreateNode(string filter)
    {
        var node = _root;
        foreach (var range in filter.AsSpan().Split('/'))
        {
            var level = filter.AsSpan(range);
            Node? child = level switch
            {
                "+" => node.Wildcards?.SingleLevel,
                "#" => node.Wildcards?.MultiLevel,
                _ => node.FindChildNode(level),
            };
            if (child is null)
            {
                child = new Node(_levelNames.GetOrCreate(level));
                node.AddChildNode(child);
                Volatile.Write(ref _nodeCount, _nodeCount + 1);
            }

            node = child;
        }

        return node;
    }

    /// <summary>Fills <paramref name="path"/> with the nodes from the root to the filter's node; false when it does not exist.</summary>
    private bool FindPath(string filter, List<Node> path)
    {
        var node = _root;
        path.Add(node);
        foreach (var range in filter.AsSpan().Split('/'))
        {
            var level = filter.AsSpan(range);
            var child = level switch
            {
                "+" => node.Wildcards?.SingleLevel,
                "#" => node.Wildcards?.MultiLevel,
                _ => node.FindChildNode(level),
            };
            if (child is null)
            {
                return false;
            }

            path.Add(child);
            node = child;
        }

        return true;
    }

    /// <summary>Unlinks the nodes at the end of the path that hold nothing any more, deepest first.</summary>
    private void Prune(List<Node> path)
    {
        for (var i = path.Count - 1; i > 0 && path[i].IsEmpty; i--)
        {
            path[i - 1].RemoveChildNode(path[i]);
            Volatile.Write(ref _nodeCount, _nodeCount - 1);
        }
    }

    private readonly record struct Fork(Node Node, int Position);

    [InlineArray(16)]
    private struct ForkBuffer
    {
        private Fork _first;
    }

    /// <summary>
    /// The '+' and '#' children and the shared groups of a node. Few nodes have any, so they live in
    /// this separate object and the common node stays at four references. Fields are written only by
    /// the writer and each is read whole, so readers need no lock.
    /// </summary>
    private sealed class NodeWildcards
    {
        private volatile Node? _singleLevel;
        private volatile Node? _multiLevel;
        private volatile SharedSubscriptionGroup<T>[]? _sharedGroups;

        public Node? SingleLevel { get => _singleLevel; set => _singleLevel = value; }

        public Node? MultiLevel { get => _multiLevel; set => _multiLevel = value; }

        /// <summary>Immutable once published; replaced as a whole on change.</summary>
        public SharedSubscriptionGroup<T>[]? SharedGroups { get => _sharedGroups; set => _sharedGroups = value; }

        public bool IsEmpty => _singleLevel is null && _multiLevel is null && _sharedGroups is null;
    }

    private sealed class Node(string level) : TrieNode(level)
    {
        // null | Subscriber<T>[] (1..MaxArraySubscribers, immutable) | SubscriberSlots<T>.
        private object? _subscribers;
        private NodeWildcards? _wildcards;

        public NodeWildcards? Wildcards => Volatile.Read(ref _wildcards);

        /// <summary>Writer side: nothing left that justifies keeping the node.</summary>
        public bool IsEmpty => !HasChildren && _subscribers is null && _wildcards is null;

        // Every child of a Node is a Node: only AddChildNode adds children.
        public Node? FindChildNode(ReadOnlySpan<char> level) => Unsafe.As<Node?>(FindChild(level));

        public void VisitSubscriptions<TVisitor>(ref TVisitor visitor)
            where TVisitor : ISubscriptionVisitor<T>, allows ref struct
        {
            switch (Volatile.Read(ref _subscribers))
            {
                case null:
                    break;
                case Subscriber<T>[] subscribers:
                    foreach (ref readonly var subscriber in subscribers.AsSpan())
                    {
                        visitor.OnSubscriber(subscriber.SubscriberId, subscriber.Value);
                    }

                    break;
                case var slots:
                    Unsafe.As<SubscriberSlots<T>>(slots).Visit(ref visitor);
                    break;
            }

            if (Volatile.Read(ref _wildcards)?.SharedGroups is { } groups)
            {
                foreach (var group in groups)
                {
                    visitor.OnSharedGroup(group);
                }
            }
        }

        public void AddChildNode(Node child)
        {
            switch (child.Level)
            {
                case "+":
                    GetOrCreateWildcards().SingleLevel = child;
                    break;
                case "#":
                    GetOrCreateWildcards().MultiLevel = child;
                    break;
                default:
                    AddChild(child);
                    break;
            }
        }

        public void RemoveChildNode(Node child)
        {
            // '+' and '#' only ever stand for wildcards here: filters were validated [MQTT-4.7.1-1], [MQTT-4.7.1-2].
            switch (child.Level)
            {
                case "+":
                    _wildcards!.SingleLevel = null;
                    DropWildcardsIfEmpty();
                    break;
                case "#":
                    _wildcards!.MultiLevel = null;
                    DropWildcardsIfEmpty();
                    break;
                default:
                    RemoveChild(child);
                    break;
            }
        }

        public bool AddOrReplaceSubscriber(string subscriberId, T value)
        {
            switch (_subscribers)
            {
                case null:
                    Volatile.Write(ref _subscribers, new[] { new Subscriber<T>(subscriberId, value) });
                    return true;
                case Subscriber<T>[] subscribers:
                    var index = IndexOf(subscribers, subscriberId);
                    if (index >= 0)
                    {
                        var replaced = subscribers.AsSpan().ToArray();
                        replaced[index] = new Subscriber<T>(subscriberId, value);
                        Volatile.Write(ref _subscribers, replaced);
                        return false;
                    }

                    if (subscribers.Length < MaxArraySubscribers)
                    {
                        var grown = new Subscriber<T>[subscribers.Length + 1];
                        subscribers.CopyTo(grown, 0);
                        grown[^1] = new Subscriber<T>(subscriberId, value);
                        Volatile.Write(ref _subscribers, grown);
                        return true;
                    }

                    var slots = new SubscriberSlots<T>(subscribers);
                    slots.AddOrReplace(subscriberId, value);
                    Volatile.Write(ref _subscribers, slots);
                    return true;
                default:
                    return ((SubscriberSlots<T>)_subscribers).AddOrReplace(subscriberId, value);
            }
        }

        public bool RemoveSubscriber(string subscriberId)
        {
            switch (_subscribers)
            {
                case null:
                    return false;
                case Subscriber<T>[] subscribers:
                    var index = IndexOf(subscribers, subscriberId);
                    if (index < 0)
                    {
                        return false;
                    }

                    var remaining = new List<Subscriber<T>>(subscribers);
                    remaining.RemoveAt(index);
                    Volatile.Write<object?>(ref _subscribers, remaining.Count == 0 ? null : remaining.ToArray());
                    return true;
                default:
                    var slots = (SubscriberSlots<T>)_subscribers;
                    if (!slots.Remove(subscriberId))
                    {
                        return false;
                    }

                    if (slots.Count <= MaxArraySubscribers / 2)
                    {
                        // Back to the compact form; readers holding the slots still see a valid set.
                        Volatile.Write<object?>(ref _subscribers, slots.Count == 0 ? null : slots.ToArray());
                    }

                    return true;
            }
        }

        public SharedSubscriptionGroup<T> GetOrCreateSharedGroup(string shareName, string topicFilter)
        {
            var wildcards = GetOrCreateWildcards();
            var groups = wildcards.SharedGroups ?? [];
            foreach (var group in groups)
            {
                if (string.Equals(group.ShareName, shareName, StringComparison.Ordinal))
                {
                    return group;
                }
            }

            var created = new SharedSubscriptionGroup<T>(shareName, topicFilter);
            wildcards.SharedGroups = [.. groups, created];
            return created;
        }

        public bool RemoveSharedGroupMember(string shareName, string subscriberId)
        {
            var groups = _wildcards?.SharedGroups ?? [];
            for (var i = 0; i < groups.Length; i++)
            {
                if (!string.Equals(groups[i].ShareName, shareName, StringComparison.Ordinal))
                {
                    continue;
                }

                if (!groups[i].Remove(subscriberId))
                {
                    return false;
                }

                if (groups[i].IsEmpty)
                {
                    _wildcards!.SharedGroups = groups.Length == 1 ? null : [.. groups[..i], .. groups[(i + 1)..]];
                    DropWildcardsIfEmpty();
                }

                return true;
            }

            return false;
        }

        private static int IndexOf(Subscriber<T>[] subscribers, string subscriberId)
        {
            for (var i = 0; i < subscribers.Length; i++)
            {
                if (string.Equals(subscribers[i].SubscriberId, subscriberId, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }

        private NodeWildcards GetOrCreateWildcards()
        {
            if (_wildcards is { } existing)
            {
                return existing;
            }

            var created = new NodeWildcards();
            Volatile.Write(ref _wildcards, created);
            return created;
        }

        private void DropWildcardsIfEmpty()
        {
            if (_wildcards is { IsEmpty: true })
            {
                Volatile.Write(ref _wildcards, null);
            }
        }
    }
}
