namespace Platform.Gateway.Sessions;

/// <summary>Where an outbound QoS 1/2 message stands in its acknowledgement flow (4.3).</summary>
public enum InflightState : byte
{
    AwaitingPubAck,
    AwaitingPubRec,
    AwaitingPubComp,
}

public struct InflightEntry
{
    public ushort PacketId;
    public InflightState State;
    public Delivery Delivery;
}

/// <summary>
/// Outbound QoS 1/2 messages sent and not yet acknowledged, in send order, so they can be resent in
/// that order with their original packet identifiers when the client reconnects [MQTT-4.4.0-1].
/// Capacity is the smaller of the client's Receive Maximum and the broker's limit [MQTT-4.9.0-2].
/// Not thread-safe: the owning session locks.
/// </summary>
public sealed class InflightWindow
{
    private InflightEntry[] _entries = new InflightEntry[4];
    private int _head;
    private int _count;
    private ushort _lastPacketId;

    public int Count => _count;

    public int Capacity { get; set; } = 1;

    public bool IsFull => _count >= Capacity;

    public ushort Add(in Delivery delivery)
    {
        if (_count == _entries.Length)
        {
            Grow();
        }

        var id = NextPacketId();
        _entries[(_head + _count) % _entries.Length] = new InflightEntry
        {
            PacketId = id,
            State = delivery.QoS == Mqtt.Protocol.QualityOfService.ExactlyOnce ? InflightState.AwaitingPubRec : InflightState.AwaitingPubAck,
            Delivery = delivery,
        };
        _count++;
        return id;
    }

    /// <summary>Completes a QoS 1 message (PUBACK) or a QoS 2 message (PUBCOMP).</summary>
    public bool TryComplete(ushort packetId, InflightState expected, out Delivery delivery)
    {
        var index = IndexOf(packetId);
        if (index < 0 || _entries[index].State != expected)
        {
            delivery = default;
            return false;
        }

        delivery = _entries[index].Delivery;
        RemoveAt(index);
        return true;
    }

    /// <summary>PUBREC received: the message is now awaiting PUBCOMP (its payload is no longer needed).</summary>
    public bool TryMarkReleased(ushort packetId)
    {
        var index = IndexOf(packetId);
        if (index < 0 || _entries[index].State != InflightState.AwaitingPubRec)
        {
            return index >= 0 && _entries[index].State == InflightState.AwaitingPubComp;
        }

        _entries[index].State = InflightState.AwaitingPubComp;
        return true;
    }

    /// <summary>Entries in send order (a copy, for retransmission or redistribution).</summary>
    public InflightEntry[] Snapshot()
    {
        var copy = new InflightEntry[_count];
        for (var i = 0; i < _count; i++)
        {
            copy[i] = _entries[(_head + i) % _entries.Length];
        }

        return copy;
    }

    /// <summary>
    /// Removes entries awaiting PUBACK or PUBREC (optionally only those <paramref name="select"/>
    /// picks) and returns their deliveries; the others keep their place and packet identifier.
    /// </summary>
    public List<Delivery> RemoveUnreleased(Func<Delivery, bool>? select = null)
    {
        var removed = new List<Delivery>();
        var kept = new InflightEntry[Math.Max(4, _entries.Length)];
        var keptCount = 0;
        for (var i = 0; i < _count; i++)
        {
            var entry = _entries[(_head + i) % _entries.Length];
            if (entry.State == InflightState.AwaitingPubComp || (select is not null && !select(entry.Delivery)))
            {
                kept[keptCount++] = entry;
            }
            else
            {
                removed.Add(entry.Delivery);
            }
        }

        _entries = kept;
        _head = 0;
        _count = keptCount;
        return removed;
    }

    public void Clear()
    {
        Array.Clear(_entries);
        _head = 0;
        _count = 0;
    }

    private int IndexOf(ushort packetId)
    {
        // Acknowledgements nearly always arrive in order, so the match is usually the first entry.
        for (var i = 0; i < _count; i++)
        {
            var index = (_head + i) % _entries.Length;
            if (_entries[index].PacketId == packetId)
            {
                return index;
            }
        }

        return -1;
    }

    private void RemoveAt(int index)
    {
        if (index == _head)
        {
            _entries[_head] = default;
            _head = (_head + 1) % _entries.Length;
            _count--;
            return;
        }

        // Out-of-order acknowledgement: close the gap.
        var position = (index - _head + _entries.Length) % _entries.Length;
        for (var i = position; i < _count - 1; i++)
        {
            _entries[(_head + i) % _entries.Length] = _entries[(_head + i + 1) % _entries.Length];
        }

        _entries[(_head + _count - 1) % _entries.Length] = default;
        _count--;
    }

    private ushort NextPacketId()
    {
        // Identifiers cycle through 1..65535 and skip those still in flight [MQTT-2.2.1-3].
        while (true)
        {
            _lastPacketId = _lastPacketId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastPacketId + 1);
            if (IndexOf(_lastPacketId) < 0)
            {
                return _lastPacketId;
            }
        }
    }

    private void Grow()
    {
        var larger = new InflightEntry[_entries.Length * 2];
        for (var i = 0; i < _count; i++)
        {
            larger[i] = _entries[(_head + i) % _entries.Length];
        }

        _entries = larger;
        _head = 0;
    }
}
