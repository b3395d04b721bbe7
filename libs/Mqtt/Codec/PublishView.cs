using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>
/// A decoded PUBLISH that copies nothing: topic, payload and properties are slices of the frame.
/// The scalar properties a broker acts on are parsed; the rest stay in <see cref="RawProperties"/>
/// (walk them with <see cref="PropertyIterator"/>). Valid as long as the frame is.
/// </summary>
public readonly ref struct PublishView
{
    public QualityOfService QoS { get; init; }

    public bool Retain { get; init; }

    public bool Dup { get; init; }

    public ushort PacketId { get; init; }

    /// <summary>The topic name as UTF-8 (validated); empty when a topic alias stands for it.</summary>
    public ReadOnlySpan<byte> Topic { get; init; }

    public ReadOnlySpan<byte> Payload { get; init; }

    /// <summary>The whole MQTT 5 property block without its length (empty for 3.1.1).</summary>
    public ReadOnlySpan<byte> RawProperties { get; init; }

    /// <summary>0 when absent.</summary>
    public ushort TopicAlias { get; init; }

    public uint? MessageExpiryInterval { get; init; }

    public PayloadFormat PayloadFormat { get; init; }

    public ReadOnlySpan<byte> ResponseTopic { get; init; }

    public ReadOnlySpan<byte> CorrelationData { get; init; }

    public ReadOnlySpan<byte> ContentType { get; init; }

    public bool HasUserProperties { get; init; }

    public int SubscriptionIdentifierCount { get; init; }

    /// <summary>Copies the message into a <see cref="PublishPacket"/> that owns its data.</summary>
    public PublishPacket ToPacket()
    {
        var packet = new PublishPacket
        {
            Topic = MqttUtf8.GetString(Topic),
            Payload = Payload.ToArray(),
            QoS = QoS,
            Retain = Retain,
            Dup = Dup,
            PacketId = PacketId,
        };
        if (!RawProperties.IsEmpty)
        {
            // Already validated when the view was made.
            packet.Properties = MqttPropertyCodec.Parse(RawProperties, PropertyContext.Publish);
        }

        return packet;
    }
}
