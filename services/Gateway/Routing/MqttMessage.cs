using System.Diagnostics;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Routing;

/// <summary>
/// An application message as the broker holds it between receiving and delivering: immutable and
/// shared by every subscriber it goes to. Topic, forwardable properties and payload live in one
/// array so a message costs two allocations.
/// </summary>
public sealed class MqttMessage
{
    private readonly byte[] _data;
    private readonly int _topicLength;
    private readonly int _propertiesLength;

    /// <param name="forwardedProperties">
    /// The MQTT 5 properties that travel to subscribers unchanged [MQTT-3.3.2-15..20]: payload
    /// format, content type, response topic, correlation data and user properties, already encoded.
    /// Topic alias, subscription identifiers and message expiry are per delivery and not included.
    /// </param>
    public MqttMessage(
        ReadOnlySpan<byte> topic,
        ReadOnlySpan<byte> payload,
        ReadOnlySpan<byte> forwardedProperties,
        QualityOfService qos,
        bool retain,
        long expiresAtTimestamp,
        string? publisherClientId)
    {
        _data = new byte[topic.Length + forwardedProperties.Length + payload.Length];
        topic.CopyTo(_data);
        forwardedProperties.CopyTo(_data.AsSpan(topic.Length));
        payload.CopyTo(_data.AsSpan(topic.Length + forwardedProperties.Length));
        _topicLength = topic.Length;
        _propertiesLength = forwardedProperties.Length;
        QoS = qos;
        Retain = retain;
        ExpiresAtTimestamp = expiresAtTimestamp;
        PublisherClientId = publisherClientId;
        ReceivedTimestamp = Stopwatch.GetTimestamp();
    }

    public ReadOnlySpan<byte> Topic => _data.AsSpan(0, _topicLength);

    public ReadOnlySpan<byte> ForwardedProperties => _data.AsSpan(_topicLength, _propertiesLength);

    public ReadOnlySpan<byte> Payload => _data.AsSpan(_topicLength + _propertiesLength);

    public ReadOnlyMemory<byte> PayloadMemory => _data.AsMemory(_topicLength + _propertiesLength);

    public int PayloadLength => _data.Length - _topicLength - _propertiesLength;

    public QualityOfService QoS { get; }

    /// <summary>The RETAIN flag as published.</summary>
    public bool Retain { get; }

    /// <summary><see cref="Stopwatch"/> timestamp after which the message must not be delivered; 0 when it never expires.</summary>
    public long ExpiresAtTimestamp { get; }

    /// <summary>Client that published it (for No Local); null for messages the broker itself publishes.</summary>
    public string? PublisherClientId { get; }

    public long ReceivedTimestamp { get; }

    public bool HasExpired(long now) => ExpiresAtTimestamp != 0 && now >= ExpiresAtTimestamp;

    /// <summary>Seconds left for the Message Expiry Interval of a delivery [MQTT-3.3.2-6]; null when the message never expires.</summary>
    public uint? RemainingExpirySeconds(long now)
    {
        if (ExpiresAtTimestamp == 0)
        {
            return null;
        }

        var remaining = Stopwatch.GetElapsedTime(now, ExpiresAtTimestamp);
        return remaining <= TimeSpan.Zero ? 0u : (uint)Math.Ceiling(remaining.TotalSeconds);
    }

    public string TopicString() => Mqtt.Codec.MqttUtf8.GetString(Topic);

    /// <summary>
    /// Deadline for a Message Expiry Interval. An interval of 0 is treated as "no expiry", as EMQX
    /// does: the specification gives 0 no meaning of its own, and expiring at once would make the
    /// message undeliverable.
    /// </summary>
    public static long ExpiryFromInterval(uint? intervalSeconds, long now) =>
        intervalSeconds is { } seconds and > 0 ? now + (long)(seconds * (double)Stopwatch.Frequency) : 0;
}
