using System.Diagnostics.CodeAnalysis;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Connections;

/// <summary>
/// Topic aliases a client set up towards the broker (3.3.2.3.4): alias → topic, only for this
/// connection [MQTT-3.3.2-7], numbered 1..the Topic Alias Maximum the broker announced.
/// </summary>
public sealed class InboundTopicAliases(ushort maximum)
{
    private byte[]?[]? _topics;

    public void Set(ushort alias, ReadOnlySpan<byte> topic)
    {
        Check(alias);
        (_topics ??= new byte[]?[maximum + 1])[alias] = topic.ToArray();
    }

    public bool TryGet(ushort alias, [NotNullWhen(true)] out byte[]? topic)
    {
        Check(alias);
        topic = _topics?[alias];
        return topic is not null;
    }

    private void Check(ushort alias)
    {
        if (alias == 0 || alias > maximum)
        {
            throw new MqttProtocolException(ReasonCode.TopicAliasInvalid, "MQTT-3.3.2-9",
                $"Topic Alias {alias} is outside 1..{maximum}, the Topic Alias Maximum sent in CONNACK");
        }
    }
}

/// <summary>
/// Aliases the broker assigns for a client that announced a Topic Alias Maximum (3.3.2.3.4): the
/// first PUBLISH on a topic carries topic and alias, later ones the alias alone. Aliases are handed
/// out until the client's maximum is reached; further topics are sent in full.
/// </summary>
public sealed class OutboundTopicAliases(ushort maximum)
{
    private readonly Dictionary<byte[], ushort> _aliases = new(ByteArrayComparer.Instance);

    /// <summary>Returns the alias for <paramref name="topic"/> (0 when none) and whether the topic must still be sent.</summary>
    public ushort Resolve(ReadOnlySpan<byte> topic, out bool sendTopic)
    {
        var lookup = _aliases.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(topic, out var alias))
        {
            sendTopic = false;
            return alias;
        }

        sendTopic = true;
        if (_aliases.Count >= maximum)
        {
            return 0;
        }

        alias = (ushort)(_aliases.Count + 1);
        _aliases.Add(topic.ToArray(), alias);
        return alias;
    }

    public void Reset() => _aliases.Clear();

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
