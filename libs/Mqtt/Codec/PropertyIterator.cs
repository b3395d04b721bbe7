using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>One property as read from the wire; which members are meaningful depends on its type.</summary>
public readonly ref struct PropertyValue
{
    internal PropertyValue(PropertyId id, uint integer, ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> pairValue)
    {
        Id = id;
        Integer = integer;
        Bytes = bytes;
        PairValue = pairValue;
    }

    public PropertyId Id { get; }

    /// <summary>Byte, Two/Four Byte Integer and Variable Byte Integer properties.</summary>
    public uint Integer { get; }

    /// <summary>UTF-8 string and binary properties; the name of a user property.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>The value of a user property.</summary>
    public ReadOnlySpan<byte> PairValue { get; }
}

/// <summary>
/// Walks an MQTT 5 property block (2.2.2) and enforces its rules as it goes: every identifier must
/// be known and allowed in <see cref="PropertyContext"/> (otherwise a Malformed Packet), values must
/// have their type's form, and a property other than User Property (and Subscription Identifier in
/// PUBLISH) must not appear twice (a Protocol Error). Value-range rules are checked too.
/// </summary>
public ref struct PropertyIterator
{
    private MqttSpanReader _reader;
    private readonly PropertyContext _context;
    private readonly bool _publishToServer;
    private ulong _seen;

    /// <param name="block">The property bytes, without the leading Property Length.</param>
    /// <param name="context">Which packet (or the will) the block belongs to.</param>
    /// <param name="toServer">The packet travels client to server (a PUBLISH then must not carry Subscription Identifiers).</param>
    public PropertyIterator(ReadOnlySpan<byte> block, PropertyContext context, bool toServer = false)
    {
        _reader = new MqttSpanReader(block);
        _context = context;
        _publishToServer = toServer && context == PropertyContext.Publish;
    }

    public bool MoveNext(out PropertyValue property)
    {
        if (_reader.End)
        {
            property = default;
            return false;
        }

        // The identifier is a Variable Byte Integer, but every defined one fits in a byte.
        var raw = _reader.ReadVariableByteInteger("property identifier");
        if (raw > byte.MaxValue || !PropertyTable.TryGet((byte)raw, out var type, out var allowed))
        {
            throw MqttProtocolException.Malformed("MQTT-2.2.2.2", $"unknown property identifier 0x{raw:X2}");
        }

        var id = (PropertyId)raw;
        if ((allowed & _context) == 0)
        {
            throw MqttProtocolException.Malformed("MQTT-2.2.2.2", $"property {id} is not valid in {_context}");
        }

        var repeatable = id == PropertyId.UserProperty || (id == PropertyId.SubscriptionIdentifier && _context == PropertyContext.Publish);
        var bit = 1UL << (int)raw;
        if (!repeatable && (_seen & bit) != 0)
        {
            throw MqttProtocolException.Protocol("MQTT-2.2.2.2", $"property {id} appears more than once");
        }

        _seen |= bit;
        var name = id.ToString();
        property = type switch
        {
            PropertyType.Byte => new PropertyValue(id, _reader.ReadByte(name), default, default),
            PropertyType.TwoByteInteger => new PropertyValue(id, _reader.ReadUInt16(name), default, default),
            PropertyType.FourByteInteger => new PropertyValue(id, _reader.ReadUInt32(name), default, default),
            PropertyType.VariableByteInteger => new PropertyValue(id, _reader.ReadVariableByteInteger(name), default, default),
            PropertyType.Utf8String => new PropertyValue(id, 0, _reader.ReadUtf8(name), default),
            PropertyType.BinaryData => new PropertyValue(id, 0, _reader.ReadBinary(name), default),
            _ => ReadPair(ref _reader),
        };

        CheckValue(property);
        return true;

        static PropertyValue ReadPair(scoped ref MqttSpanReader reader)
        {
            var key = reader.ReadUtf8("user property name");
            var value = reader.ReadUtf8("user property value");
            return new PropertyValue(PropertyId.UserProperty, 0, key, value);
        }
    }

    private readonly void CheckValue(in PropertyValue property)
    {
        switch (property.Id)
        {
            case PropertyId.PayloadFormatIndicator:
            case PropertyId.RequestProblemInformation:
            case PropertyId.RequestResponseInformation:
            case PropertyId.MaximumQoS:
            case PropertyId.RetainAvailable:
            case PropertyId.WildcardSubscriptionAvailable:
            case PropertyId.SubscriptionIdentifierAvailable:
            case PropertyId.SharedSubscriptionAvailable:
                if (property.Integer > 1)
                {
                    throw MqttProtocolException.Protocol("MQTT-2.2.2.2", $"{property.Id} must be 0 or 1, was {property.Integer}");
                }

                break;
            case PropertyId.ReceiveMaximum:
            case PropertyId.MaximumPacketSize:
                if (property.Integer == 0)
                {
                    throw MqttProtocolException.Protocol(property.Id == PropertyId.ReceiveMaximum ? "MQTT-3.1.2.11.3" : "MQTT-3.1.2.11.4", $"{property.Id} must not be 0");
                }

                break;
            case PropertyId.SubscriptionIdentifier:
                if (property.Integer == 0)
                {
                    throw MqttProtocolException.Protocol("MQTT-3.8.2.1.2", "Subscription Identifier must not be 0");
                }

                if (_publishToServer)
                {
                    throw MqttProtocolException.Protocol("MQTT-3.3.4-6", "a PUBLISH sent to a server must not carry a Subscription Identifier");
                }

                break;
            case PropertyId.TopicAlias:
                if (property.Integer == 0)
                {
                    throw new MqttProtocolException(ReasonCode.TopicAliasInvalid, "MQTT-3.3.2-8", "Topic Alias must not be 0");
                }

                break;
            default:
                break;
        }
    }

}
