namespace Platform.Mqtt.Protocol;

/// <summary>MQTT 5 property identifiers (2.2.2.2).</summary>
public enum PropertyId : byte
{
    PayloadFormatIndicator = 0x01,
    MessageExpiryInterval = 0x02,
    ContentType = 0x03,
    ResponseTopic = 0x08,
    CorrelationData = 0x09,
    SubscriptionIdentifier = 0x0B,
    SessionExpiryInterval = 0x11,
    AssignedClientIdentifier = 0x12,
    ServerKeepAlive = 0x13,
    AuthenticationMethod = 0x15,
    AuthenticationData = 0x16,
    RequestProblemInformation = 0x17,
    WillDelayInterval = 0x18,
    RequestResponseInformation = 0x19,
    ResponseInformation = 0x1A,
    ServerReference = 0x1C,
    ReasonString = 0x1F,
    ReceiveMaximum = 0x21,
    TopicAliasMaximum = 0x22,
    TopicAlias = 0x23,
    MaximumQoS = 0x24,
    RetainAvailable = 0x25,
    UserProperty = 0x26,
    MaximumPacketSize = 0x27,
    WildcardSubscriptionAvailable = 0x28,
    SubscriptionIdentifierAvailable = 0x29,
    SharedSubscriptionAvailable = 0x2A,
}

/// <summary>Where a property block appears: a packet type, or the will properties inside CONNECT.</summary>
[Flags]
public enum PropertyContext : ushort
{
    None = 0,
    Connect = 1 << 0,
    ConnAck = 1 << 1,
    Publish = 1 << 2,
    Will = 1 << 3,
    PubAck = 1 << 4,
    PubRec = 1 << 5,
    PubRel = 1 << 6,
    PubComp = 1 << 7,
    Subscribe = 1 << 8,
    SubAck = 1 << 9,
    Unsubscribe = 1 << 10,
    UnsubAck = 1 << 11,
    Disconnect = 1 << 12,
    Auth = 1 << 13,
}

internal enum PropertyType : byte
{
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    Utf8String,
    BinaryData,
    Utf8StringPair,
}

/// <summary>The property table of the specification (2.2.2.2): each identifier's type and where it may appear.</summary>
internal static class PropertyTable
{
    private const PropertyContext Acks = PropertyContext.PubAck | PropertyContext.PubRec | PropertyContext.PubRel | PropertyContext.PubComp;
    private const PropertyContext Message = PropertyContext.Publish | PropertyContext.Will;

    private static readonly (PropertyType Type, PropertyContext Allowed)[] Entries = Build();

    public static bool TryGet(byte id, out PropertyType type, out PropertyContext allowed)
    {
        var entry = Entries[id < Entries.Length ? id : 0];
        (type, allowed) = entry;
        return allowed != PropertyContext.None;
    }

    public static bool IsAllowed(PropertyId id, PropertyContext context) =>
        TryGet((byte)id, out _, out var allowed) && (allowed & context) != 0;

    private static (PropertyType, PropertyContext)[] Build()
    {
        var table = new (PropertyType, PropertyContext)[0x2B];
        void Set(PropertyId id, PropertyType type, PropertyContext allowed) => table[(byte)id] = (type, allowed);

        Set(PropertyId.PayloadFormatIndicator, PropertyType.Byte, Message);
        Set(PropertyId.MessageExpiryInterval, PropertyType.FourByteInteger, Message);
        Set(PropertyId.ContentType, PropertyType.Utf8String, Message);
        Set(PropertyId.ResponseTopic, PropertyType.Utf8String, Message);
        Set(PropertyId.CorrelationData, PropertyType.BinaryData, Message);
        Set(PropertyId.SubscriptionIdentifier, PropertyType.VariableByteInteger, PropertyContext.Publish | PropertyContext.Subscribe);
        Set(PropertyId.SessionExpiryInterval, PropertyType.FourByteInteger, PropertyContext.Connect | PropertyContext.ConnAck | PropertyContext.Disconnect);
        Set(PropertyId.AssignedClientIdentifier, PropertyType.Utf8String, PropertyContext.ConnAck);
        Set(PropertyId.ServerKeepAlive, PropertyType.TwoByteInteger, PropertyContext.ConnAck);
        Set(PropertyId.AuthenticationMethod, PropertyType.Utf8String, PropertyContext.Connect | PropertyContext.ConnAck | PropertyContext.Auth);
        Set(PropertyId.AuthenticationData, PropertyType.BinaryData, PropertyContext.Connect | PropertyContext.ConnAck | PropertyContext.Auth);
        Set(PropertyId.RequestProblemInformation, PropertyType.Byte, PropertyContext.Connect);
        Set(PropertyId.WillDelayInterval, PropertyType.FourByteInteger, PropertyContext.Will);
        Set(PropertyId.RequestResponseInformation, PropertyType.Byte, PropertyContext.Connect);
        Set(PropertyId.ResponseInformation, PropertyType.Utf8String, PropertyContext.ConnAck);
        Set(PropertyId.ServerReference, PropertyType.Utf8String, PropertyContext.ConnAck | PropertyContext.Disconnect);
        Set(PropertyId.ReasonString, PropertyType.Utf8String, PropertyContext.ConnAck | Acks | PropertyContext.SubAck | PropertyContext.UnsubAck | PropertyContext.Disconnect | PropertyContext.Auth);
        Set(PropertyId.ReceiveMaximum, PropertyType.TwoByteInteger, PropertyContext.Connect | PropertyContext.ConnAck);
        Set(PropertyId.TopicAliasMaximum, PropertyType.TwoByteInteger, PropertyContext.Connect | PropertyContext.ConnAck);
        Set(PropertyId.TopicAlias, PropertyType.TwoByteInteger, PropertyContext.Publish);
        Set(PropertyId.MaximumQoS, PropertyType.Byte, PropertyContext.ConnAck);
        Set(PropertyId.RetainAvailable, PropertyType.Byte, PropertyContext.ConnAck);
        Set(PropertyId.UserProperty, PropertyType.Utf8StringPair, ~PropertyContext.None);
        Set(PropertyId.MaximumPacketSize, PropertyType.FourByteInteger, PropertyContext.Connect | PropertyContext.ConnAck);
        Set(PropertyId.WildcardSubscriptionAvailable, PropertyType.Byte, PropertyContext.ConnAck);
        Set(PropertyId.SubscriptionIdentifierAvailable, PropertyType.Byte, PropertyContext.ConnAck);
        Set(PropertyId.SharedSubscriptionAvailable, PropertyType.Byte, PropertyContext.ConnAck);
        return table;
    }
}
