namespace Platform.Mqtt.Protocol;

/// <summary>A user property (0x26): a UTF-8 name/value pair; names may repeat and order is kept.</summary>
public readonly record struct MqttUserProperty(string Name, string Value);

/// <summary>
/// The MQTT 5 properties of one packet (or of the will message). Unset properties are null.
/// The encoder writes only what is set and rejects properties the packet type does not allow
/// (2.2.2.2); the decoder fills only what arrived, after checking values and duplicates.
/// </summary>
public sealed class MqttProperties
{
    public PayloadFormat? PayloadFormatIndicator { get; set; }

    /// <summary>Seconds until the message expires (3.3.2.3.3).</summary>
    public uint? MessageExpiryInterval { get; set; }

    public string? ContentType { get; set; }

    public string? ResponseTopic { get; set; }

    public ReadOnlyMemory<byte>? CorrelationData { get; set; }

    /// <summary>One in SUBSCRIBE; one per matching subscription in a PUBLISH sent by a server.</summary>
    public List<uint>? SubscriptionIdentifiers { get; set; }

    public uint? SessionExpiryInterval { get; set; }

    public string? AssignedClientIdentifier { get; set; }

    public ushort? ServerKeepAlive { get; set; }

    public string? AuthenticationMethod { get; set; }

    public ReadOnlyMemory<byte>? AuthenticationData { get; set; }

    public bool? RequestProblemInformation { get; set; }

    public uint? WillDelayInterval { get; set; }

    public bool? RequestResponseInformation { get; set; }

    public string? ResponseInformation { get; set; }

    public string? ServerReference { get; set; }

    public string? ReasonString { get; set; }

    public ushort? ReceiveMaximum { get; set; }

    public ushort? TopicAliasMaximum { get; set; }

    public ushort? TopicAlias { get; set; }

    public QualityOfService? MaximumQoS { get; set; }

    public bool? RetainAvailable { get; set; }

    public List<MqttUserProperty>? UserProperties { get; set; }

    public uint? MaximumPacketSize { get; set; }

    public bool? WildcardSubscriptionAvailable { get; set; }

    public bool? SubscriptionIdentifiersAvailable { get; set; }

    public bool? SharedSubscriptionAvailable { get; set; }

    public MqttProperties AddUserProperty(string name, string value)
    {
        (UserProperties ??= []).Add(new MqttUserProperty(name, value));
        return this;
    }

    /// <summary>The first user property with this name, or null.</summary>
    public string? GetUserProperty(string name)
    {
        if (UserProperties is null)
        {
            return null;
        }

        foreach (var property in UserProperties)
        {
            if (property.Name == name)
            {
                return property.Value;
            }
        }

        return null;
    }

    /// <summary>A shallow copy: lists are copied, byte contents are shared (they are immutable by convention).</summary>
    public MqttProperties Clone()
    {
        var copy = (MqttProperties)MemberwiseClone();
        copy.UserProperties = UserProperties is null ? null : [.. UserProperties];
        copy.SubscriptionIdentifiers = SubscriptionIdentifiers is null ? null : [.. SubscriptionIdentifiers];
        return copy;
    }
}
