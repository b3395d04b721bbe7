namespace Platform.Mqtt.Protocol;

/// <summary>
/// MQTT 5 reason codes (2.4). Values below 0x80 report success, 0x80 and above failure. For MQTT
/// 3.1.1 the codec maps them onto the CONNACK return codes and SUBACK failure code of that version.
/// </summary>
public enum ReasonCode : byte
{
    Success = 0x00,
    NormalDisconnection = 0x00,
    GrantedQoS0 = 0x00,
    GrantedQoS1 = 0x01,
    GrantedQoS2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QoSNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
}

/// <summary>MQTT 3.1.1 CONNACK return codes (3.2.2.3).</summary>
public enum ConnectReturnCodeV3 : byte
{
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}

public static class ReasonCodes
{
    public static bool IsFailure(this ReasonCode code) => (byte)code >= 0x80;

    /// <summary>The 3.1.1 CONNACK return code closest to an MQTT 5 reason code.</summary>
    public static ConnectReturnCodeV3 ToConnectReturnCodeV3(this ReasonCode code) => code switch
    {
        ReasonCode.Success => ConnectReturnCodeV3.Accepted,
        ReasonCode.UnsupportedProtocolVersion => ConnectReturnCodeV3.UnacceptableProtocolVersion,
        ReasonCode.ClientIdentifierNotValid => ConnectReturnCodeV3.IdentifierRejected,
        ReasonCode.BadUserNameOrPassword or ReasonCode.BadAuthenticationMethod => ConnectReturnCodeV3.BadUserNameOrPassword,
        ReasonCode.NotAuthorized or ReasonCode.Banned => ConnectReturnCodeV3.NotAuthorized,
        _ => ConnectReturnCodeV3.ServerUnavailable,
    };

    public static ReasonCode FromConnectReturnCodeV3(ConnectReturnCodeV3 code) => code switch
    {
        ConnectReturnCodeV3.Accepted => ReasonCode.Success,
        ConnectReturnCodeV3.UnacceptableProtocolVersion => ReasonCode.UnsupportedProtocolVersion,
        ConnectReturnCodeV3.IdentifierRejected => ReasonCode.ClientIdentifierNotValid,
        ConnectReturnCodeV3.ServerUnavailable => ReasonCode.ServerUnavailable,
        ConnectReturnCodeV3.BadUserNameOrPassword => ReasonCode.BadUserNameOrPassword,
        ConnectReturnCodeV3.NotAuthorized => ReasonCode.NotAuthorized,
        _ => ReasonCode.UnspecifiedError,
    };

    // Reason codes each acknowledgement may carry (3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1).
    internal static bool IsValidFor(PacketType type, ReasonCode code) => type switch
    {
        PacketType.PubAck or PacketType.PubRec => code is ReasonCode.Success or ReasonCode.NoMatchingSubscribers
            or ReasonCode.UnspecifiedError or ReasonCode.ImplementationSpecificError or ReasonCode.NotAuthorized
            or ReasonCode.TopicNameInvalid or ReasonCode.PacketIdentifierInUse or ReasonCode.QuotaExceeded
            or ReasonCode.PayloadFormatInvalid,
        PacketType.PubRel or PacketType.PubComp => code is ReasonCode.Success or ReasonCode.PacketIdentifierNotFound,
        PacketType.SubAck => code is ReasonCode.GrantedQoS0 or ReasonCode.GrantedQoS1 or ReasonCode.GrantedQoS2
            or ReasonCode.UnspecifiedError or ReasonCode.ImplementationSpecificError or ReasonCode.NotAuthorized
            or ReasonCode.TopicFilterInvalid or ReasonCode.PacketIdentifierInUse or ReasonCode.QuotaExceeded
            or ReasonCode.SharedSubscriptionsNotSupported or ReasonCode.SubscriptionIdentifiersNotSupported
            or ReasonCode.WildcardSubscriptionsNotSupported,
        PacketType.UnsubAck => code is ReasonCode.Success or ReasonCode.NoSubscriptionExisted
            or ReasonCode.UnspecifiedError or ReasonCode.ImplementationSpecificError or ReasonCode.NotAuthorized
            or ReasonCode.TopicFilterInvalid or ReasonCode.PacketIdentifierInUse,
        PacketType.Auth => code is ReasonCode.Success or ReasonCode.ContinueAuthentication or ReasonCode.ReAuthenticate,
        PacketType.ConnAck => code == ReasonCode.Success || (code.IsFailure() && code is not (ReasonCode.DisconnectWithWillMessage)),
        PacketType.Disconnect => code is ReasonCode.NormalDisconnection or ReasonCode.DisconnectWithWillMessage || code.IsFailure(),
        _ => false,
    };
}
