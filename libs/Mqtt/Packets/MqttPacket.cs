using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Packets;

/// <summary>
/// A decoded (or to-be-encoded) MQTT control packet that owns its data. The gateway's hot path
/// reads PUBLISH through <see cref="Codec.PublishView"/> instead, without copying.
/// </summary>
public abstract class MqttPacket
{
    public abstract PacketType Type { get; }

    /// <summary>MQTT 5 properties; null when none are set.</summary>
    public MqttProperties? Properties { get; set; }

    /// <summary>Returns <see cref="Properties"/>, creating it when absent.</summary>
    public MqttProperties EnsureProperties() => Properties ??= new MqttProperties();

    public override string ToString() => Type.ToString();
}

/// <summary>Packets that carry a packet identifier.</summary>
public interface IMqttPacketWithId
{
    ushort PacketId { get; set; }
}

/// <summary>The will message carried by CONNECT (3.1.3.2-3.1.3.4).</summary>
public sealed class MqttWillMessage
{
    public required string Topic { get; set; }

    public ReadOnlyMemory<byte> Payload { get; set; }

    public QualityOfService QoS { get; set; }

    public bool Retain { get; set; }

    /// <summary>Will properties (MQTT 5): will delay, expiry, content type, response topic, ...</summary>
    public MqttProperties? Properties { get; set; }
}

public sealed class ConnectPacket : MqttPacket
{
    public override PacketType Type => PacketType.Connect;

    public MqttProtocolVersion ProtocolVersion { get; set; } = MqttProtocolVersion.V500;

    /// <summary>May be empty: the server then assigns one (MQTT 5) or requires a clean session (3.1.1).</summary>
    public string ClientId { get; set; } = "";

    /// <summary>Clean Start (MQTT 5) / Clean Session (3.1.1).</summary>
    public bool CleanStart { get; set; } = true;

    /// <summary>Seconds; 0 disables keep-alive.</summary>
    public ushort KeepAliveSeconds { get; set; } = 60;

    public string? UserName { get; set; }

    public ReadOnlyMemory<byte>? Password { get; set; }

    public MqttWillMessage? Will { get; set; }
}

public sealed class ConnAckPacket : MqttPacket
{
    public override PacketType Type => PacketType.ConnAck;

    public bool SessionPresent { get; set; }

    /// <summary>MQTT 5 reason code; 3.1.1 return codes are mapped onto it.</summary>
    public ReasonCode ReasonCode { get; set; }
}

public sealed class PublishPacket : MqttPacket, IMqttPacketWithId
{
    public override PacketType Type => PacketType.Publish;

    /// <summary>May be empty in MQTT 5 when a topic alias stands for it.</summary>
    public string Topic { get; set; } = "";

    public ReadOnlyMemory<byte> Payload { get; set; }

    public QualityOfService QoS { get; set; }

    public bool Retain { get; set; }

    public bool Dup { get; set; }

    /// <summary>Non-zero for QoS 1 and 2, absent on the wire for QoS 0.</summary>
    public ushort PacketId { get; set; }

    public override string ToString() => $"PUBLISH q{(int)QoS}{(Retain ? " r" : "")}{(Dup ? " d" : "")} id={PacketId} '{Topic}' ({Payload.Length} B)";
}

/// <summary>PUBACK, PUBREC, PUBREL and PUBCOMP: a packet identifier, a reason code and properties.</summary>
public sealed class PublishAckPacket : MqttPacket, IMqttPacketWithId
{
    private readonly PacketType _type;

    public PublishAckPacket(PacketType type, ushort packetId, ReasonCode reasonCode = ReasonCode.Success)
    {
        if (type is not (PacketType.PubAck or PacketType.PubRec or PacketType.PubRel or PacketType.PubComp))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Only PUBACK, PUBREC, PUBREL and PUBCOMP.");
        }

        _type = type;
        PacketId = packetId;
        ReasonCode = reasonCode;
    }

    public override PacketType Type => _type;

    public ushort PacketId { get; set; }

    public ReasonCode ReasonCode { get; set; }

    public override string ToString() => $"{Type} id={PacketId} {ReasonCode}";
}

/// <summary>One topic filter of SUBSCRIBE with its options (3.8.3.1).</summary>
public sealed record MqttSubscription(string TopicFilter, QualityOfService MaximumQoS = QualityOfService.AtMostOnce)
{
    public bool NoLocal { get; init; }

    public bool RetainAsPublished { get; init; }

    public RetainHandling RetainHandling { get; init; }
}

public sealed class SubscribePacket : MqttPacket, IMqttPacketWithId
{
    public override PacketType Type => PacketType.Subscribe;

    public ushort PacketId { get; set; }

    public List<MqttSubscription> Subscriptions { get; set; } = [];
}

public sealed class SubAckPacket : MqttPacket, IMqttPacketWithId
{
    public override PacketType Type => PacketType.SubAck;

    public ushort PacketId { get; set; }

    /// <summary>One per topic filter of the SUBSCRIBE, in order.</summary>
    public List<ReasonCode> ReasonCodes { get; set; } = [];
}

public sealed class UnsubscribePacket : MqttPacket, IMqttPacketWithId
{
    public override PacketType Type => PacketType.Unsubscribe;

    public ushort PacketId { get; set; }

    public List<string> TopicFilters { get; set; } = [];
}

public sealed class UnsubAckPacket : MqttPacket, IMqttPacketWithId
{
    public override PacketType Type => PacketType.UnsubAck;

    public ushort PacketId { get; set; }

    /// <summary>MQTT 5 only (3.1.1 UNSUBACK has no payload; decoded as empty).</summary>
    public List<ReasonCode> ReasonCodes { get; set; } = [];
}

public sealed class PingReqPacket : MqttPacket
{
    public static readonly PingReqPacket Instance = new();

    public override PacketType Type => PacketType.PingReq;
}

public sealed class PingRespPacket : MqttPacket
{
    public static readonly PingRespPacket Instance = new();

    public override PacketType Type => PacketType.PingResp;
}

public sealed class DisconnectPacket : MqttPacket
{
    public override PacketType Type => PacketType.Disconnect;

    public ReasonCode ReasonCode { get; set; } = ReasonCode.NormalDisconnection;
}

/// <summary>MQTT 5 enhanced authentication (3.15).</summary>
public sealed class AuthPacket : MqttPacket
{
    public override PacketType Type => PacketType.Auth;

    public ReasonCode ReasonCode { get; set; } = ReasonCode.Success;
}
