namespace Platform.Mqtt.Topics;

/// <summary>
/// The non-shared subscribers of a filter that many clients subscribe to, e.g. a fleet-wide
/// broadcast topic every vehicle listens on.
/// </summary>
/// <remarks>
/// Small sets are immutable arrays replaced on every change; for hundreds of thousands of
/// subscribers that copy would make subscribing quadratic. Here each subscriber keeps its slot, so
/// adding writes one free slot and removing clears one, both single reference writes that readers
/// see whole (entries are immutable objects, so a reader never sees a new id with an old value).
/// A subscriber never moves to another slot of the same array, which is why a reader walking the
/// array concurrently with changes can miss only subscribers that are being added or removed.
/// Slots move only when the array is rebuilt (on growth or after many removals), and the rebuilt
/// array is published as a whole. Only the tree's writer (under its lock) calls the mutators.
/// </remarks>
internal sealed class SubscriberSlots<T>
{
    private const int MinimumCapacity = 32;

    private readonly Dictionary<string, int> _slotBySubscriber = new(StringComparer.Ordinal);
    private Entry?[] _slots;

    // Slots [0, _used) have been handed out; beyond that they are still empty.
    private int _used;

    public SubscriberSlots(ReadOnlySpan<Subscriber<T>> subscribers)
    {
        _slots = new Entry?[Math.Max(MinimumCapacity, subscribers.Length * 2)];
        foreach (var subscriber in subscribers)
        {
            _slotBySubscriber.Add(subscriber.SubscriberId, _used);
            _slots[_used++] = new Entry(subscriber.SubscriberId, subscriber.Value);
        }
    }

    public int Count => _slotBySubscriber.Count;

    public void Visit<TVisitor>(ref TVisitor visitor)
        where TVisitor : ISubscriptionVisitor<T>, allows ref struct
    {
        foreach (var entry in Volatile.Read(ref _slots))
        {
            if (entry is not null)
            {
                visitor.OnSubscriber(entry.SubscriberId, entry.Value);
            }
        }
    }

    /// <summary>Returns true when the subscriber is new, false when its entry was replaced.</summary>
    public bool AddOrReplace(string subscriberId, T value)
    {
        var entry = new Entry(subscriberId, value);
        if (_slotBySubscriber.TryGetValue(subscriberId, out var existing))
        {
            Volatile.Write(ref _slots[existing], entry);
            return false;
        }

        if (_used == _slots.Length)
        {
            Rebuild(Math.Max(MinimumCapacity, (Count + 1) * 2));
        }

        _slotBySubscriber.Add(subscriberId, _used);
        Volatile.Write(ref _slots[_used++], entry);
        return true;
    }

    public bool Remove(string subscriberId)
    {
        if (!_slotBySubscriber.Remove(subscriberId, out var slot))
        {
            return false;
        }

        Volatile.Write(ref _slots[slot], null);

        // Compact once most handed-out slots are empty, so matching does not walk holes forever.
        if (_used > MinimumCapacity && Count < _used / 4)
        {
            Rebuild(Math.Max(MinimumCapacity, Count * 2));
        }

        return true;
    }

    public Subscriber<T>[] ToArray()
    {
        var array = new Subscriber<T>[Count];
        var index = 0;
        foreach (var entry in _slots.AsSpan(0, _used))
        {
            if (entry is not null)
            {
                array[index++] = new Subscriber<T>(entry.SubscriberId, entry.Value);
            }
        }

        return array;
    }

    private void Rebuild(int capacity)
    {
        var rebuilt = new Entry?[capacity];
        var used = 0;
        foreach (var entry in _slots.AsSpan(0, _used))
        {
            if (entry is not null)
            {
                _slotBySubscriber[entry.SubscriberId] = used;
                rebuilt[used++] = entry;
            }
        }

        _used = used;
        Volatile.Write(ref _slots, rebuilt);
    }

    private sealed class Entry(string subscriberId, T value)
    {
        public string SubscriberId { get; } = subscriberId;

        public T Value { get; } = value;
    }
}
