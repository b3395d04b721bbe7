namespace Platform.Mqtt.Protocol;

/// <summary>
/// A violation of the MQTT specification found while decoding or handling a packet. It carries the
/// MQTT 5 reason code the receiver sends (in CONNACK during the handshake, DISCONNECT afterwards)
/// and the normative statement that was broken. An MQTT 3.1.1 receiver closes the network
/// connection instead, except for the two cases that CONNACK can report
/// (<see cref="ReasonCode.UnsupportedProtocolVersion"/>, <see cref="ReasonCode.ClientIdentifierNotValid"/>).
/// </summary>
public sealed class MqttProtocolException : Exception
{
    public MqttProtocolException(ReasonCode reasonCode, string statement, string message)
        : base($"[{statement}] {message}")
    {
        ReasonCode = reasonCode;
        Statement = statement;
    }

    public MqttProtocolException()
        : this(ReasonCode.ProtocolError, "MQTT", "protocol error")
    {
    }

    public MqttProtocolException(string message)
        : this(ReasonCode.ProtocolError, "MQTT", message)
    {
    }

    public MqttProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        ReasonCode = ReasonCode.ProtocolError;
        Statement = "MQTT";
    }

    /// <summary>The reason code to send before closing (MQTT 5).</summary>
    public ReasonCode ReasonCode { get; }

    /// <summary>The normative statement, e.g. <c>MQTT-3.3.1-4</c>, or a section such as <c>MQTT-2.2.2.2</c>.</summary>
    public string Statement { get; }

    /// <summary>The protocol version requested by a CONNECT whose version is unsupported, when known.</summary>
    public MqttProtocolVersion RequestedVersion { get; init; }

    internal static MqttProtocolException Malformed(string statement, string message) =>
        new(ReasonCode.MalformedPacket, statement, message);

    internal static MqttProtocolException Protocol(string statement, string message) =>
        new(ReasonCode.ProtocolError, statement, message);
}
