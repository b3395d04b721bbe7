namespace Platform.Mqtt.Protocol;

/// <summary>The protocol level byte of CONNECT.</summary>
public enum MqttProtocolVersion : byte
{
    Unknown = 0,

    /// <summary>MQTT 3.1 (protocol name "MQIsdp"); handled with 3.1.1 semantics.</summary>
    V310 = 3,

    V311 = 4,

    V500 = 5,
}

public enum QualityOfService : byte
{
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

/// <summary>MQTT 5 subscription option: when retained messages are sent for a new subscription (3.8.3.1).</summary>
public enum RetainHandling : byte
{
    SendAtSubscribe = 0,
    SendAtSubscribeIfNew = 1,
    DoNotSend = 2,
}

public enum PacketType : byte
{
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    Auth = 15,
}

/// <summary>MQTT 5 Payload Format Indicator (3.3.2.3.2).</summary>
public enum PayloadFormat : byte
{
    Unspecified = 0,
    Utf8 = 1,
}

public static class MqttProtocolVersionExtensions
{
    public static bool IsV5(this MqttProtocolVersion version) => version == MqttProtocolVersion.V500;
}
