using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>Reads property blocks into <see cref="MqttProperties"/> and writes them back.</summary>
public static class MqttPropertyCodec
{
    /// <summary>Reads Property Length and the block after it; null when the block is empty.</summary>
    internal static MqttProperties? Read(ref MqttSpanReader reader, PropertyContext context, bool toServer)
    {
        var block = ReadBlock(ref reader);
        return block.IsEmpty ? null : Parse(block, context, toServer);
    }

    internal static ReadOnlySpan<byte> ReadBlock(scoped ref MqttSpanReader reader)
    {
        var length = reader.ReadVariableByteInteger("Property Length");
        return reader.ReadBytes(checked((int)length), "properties");
    }

    /// <summary>Parses a property block (without its length prefix).</summary>
    public static MqttProperties Parse(ReadOnlySpan<byte> block, PropertyContext context, bool toServer = false)
    {
        var properties = new MqttProperties();
        var iterator = new PropertyIterator(block, context, toServer);
        while (iterator.MoveNext(out var p))
        {
            switch (p.Id)
            {
                case PropertyId.PayloadFormatIndicator: properties.PayloadFormatIndicator = (PayloadFormat)p.Integer; break;
                case PropertyId.MessageExpiryInterval: properties.MessageExpiryInterval = p.Integer; break;
                case PropertyId.ContentType: properties.ContentType = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.ResponseTopic: properties.ResponseTopic = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.CorrelationData: properties.CorrelationData = p.Bytes.ToArray(); break;
                case PropertyId.SubscriptionIdentifier: (properties.SubscriptionIdentifiers ??= []).Add(p.Integer); break;
                case PropertyId.SessionExpiryInterval: properties.SessionExpiryInterval = p.Integer; break;
                case PropertyId.AssignedClientIdentifier: properties.AssignedClientIdentifier = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.ServerKeepAlive: properties.ServerKeepAlive = (ushort)p.Integer; break;
                case PropertyId.AuthenticationMethod: properties.AuthenticationMethod = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.AuthenticationData: properties.AuthenticationData = p.Bytes.ToArray(); break;
                case PropertyId.RequestProblemInformation: properties.RequestProblemInformation = p.Integer == 1; break;
                case PropertyId.WillDelayInterval: properties.WillDelayInterval = p.Integer; break;
                case PropertyId.RequestResponseInformation: properties.RequestResponseInformation = p.Integer == 1; break;
                case PropertyId.ResponseInformation: properties.ResponseInformation = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.ServerReference: properties.ServerReference = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.ReasonString: properties.ReasonString = MqttUtf8.GetString(p.Bytes); break;
                case PropertyId.ReceiveMaximum: properties.ReceiveMaximum = (ushort)p.Integer; break;
                case PropertyId.TopicAliasMaximum: properties.TopicAliasMaximum = (ushort)p.Integer; break;
                case PropertyId.TopicAlias: properties.TopicAlias = (ushort)p.Integer; break;
                case PropertyId.MaximumQoS: properties.MaximumQoS = (QualityOfService)p.Integer; break;
                case PropertyId.RetainAvailable: properties.RetainAvailable = p.Integer == 1; break;
                case PropertyId.UserProperty:
                    properties.AddUserProperty(MqttUtf8.GetString(p.Bytes), MqttUtf8.GetString(p.PairValue));
                    break;
                case PropertyId.MaximumPacketSize: properties.MaximumPacketSize = p.Integer; break;
                case PropertyId.WildcardSubscriptionAvailable: properties.WildcardSubscriptionAvailable = p.Integer == 1; break;
                case PropertyId.SubscriptionIdentifierAvailable: properties.SubscriptionIdentifiersAvailable = p.Integer == 1; break;
                case PropertyId.SharedSubscriptionAvailable: properties.SharedSubscriptionAvailable = p.Integer == 1; break;
                default: throw MqttProtocolException.Malformed("MQTT-2.2.2.2", $"unhandled property {p.Id}");
            }
        }

        return properties;
    }

    /// <summary>
    /// Size of the property block content (without Property Length). Throws
    /// <see cref="ArgumentException"/> when a property is not allowed in <paramref name="context"/>
    /// or a value cannot be sent.
    /// </summary>
    public static int Measure(MqttProperties? properties, PropertyContext context)
    {
        if (properties is null)
        {
            return 0;
        }

        var size = 0;
        void Fixed<T>(T? value, PropertyId id, int width)
            where T : struct
        {
            if (value.HasValue)
            {
                Allow(id, context);
                size += 1 + width;
            }
        }

        void Text(string? value, PropertyId id)
        {
            if (value is not null)
            {
                Allow(id, context);
                size += 3 + MqttUtf8.GetByteCount(value, id.ToString());
            }
        }

        void Binary(ReadOnlyMemory<byte>? value, PropertyId id)
        {
            if (value is { } bytes)
            {
                Allow(id, context);
                if (bytes.Length > ushort.MaxValue)
                {
                    throw new ArgumentException($"{id} is longer than 65,535 bytes (1.5.6).");
                }

                size += 3 + bytes.Length;
            }
        }

        Fixed(properties.PayloadFormatIndicator, PropertyId.PayloadFormatIndicator, 1);
        Fixed(properties.MessageExpiryInterval, PropertyId.MessageExpiryInterval, 4);
        Text(properties.ContentType, PropertyId.ContentType);
        Text(properties.ResponseTopic, PropertyId.ResponseTopic);
        Binary(properties.CorrelationData, PropertyId.CorrelationData);
        if (properties.SubscriptionIdentifiers is { Count: > 0 } ids)
        {
            Allow(PropertyId.SubscriptionIdentifier, context);
            if (context == PropertyContext.Subscribe && ids.Count > 1)
            {
                throw new ArgumentException("SUBSCRIBE carries at most one Subscription Identifier (3.8.2.1.2).");
            }

            foreach (var id in ids)
            {
                if (id is 0 or > VariableByteInteger.MaxValue)
                {
                    throw new ArgumentException($"Subscription Identifier {id} is outside 1..268,435,455.");
                }

                size += 1 + VariableByteInteger.GetSize(id);
            }
        }

        Fixed(properties.SessionExpiryInterval, PropertyId.SessionExpiryInterval, 4);
        Text(properties.AssignedClientIdentifier, PropertyId.AssignedClientIdentifier);
        Fixed(properties.ServerKeepAlive, PropertyId.ServerKeepAlive, 2);
        Text(properties.AuthenticationMethod, PropertyId.AuthenticationMethod);
        Binary(properties.AuthenticationData, PropertyId.AuthenticationData);
        Fixed(properties.RequestProblemInformation, PropertyId.RequestProblemInformation, 1);
        Fixed(properties.WillDelayInterval, PropertyId.WillDelayInterval, 4);
        Fixed(properties.RequestResponseInformation, PropertyId.RequestResponseInformation, 1);
        Text(properties.ResponseInformation, PropertyId.ResponseInformation);
        Text(properties.ServerReference, PropertyId.ServerReference);
        Text(properties.ReasonString, PropertyId.ReasonString);
        Fixed(properties.ReceiveMaximum, PropertyId.ReceiveMaximum, 2);
        Fixed(properties.TopicAliasMaximum, PropertyId.TopicAliasMaximum, 2);
        Fixed(properties.TopicAlias, PropertyId.TopicAlias, 2);
        Fixed(properties.MaximumQoS, PropertyId.MaximumQoS, 1);
        Fixed(properties.RetainAvailable, PropertyId.RetainAvailable, 1);
        if (properties.UserProperties is { Count: > 0 } user)
        {
            Allow(PropertyId.UserProperty, context);
            foreach (var (name, value) in user)
            {
                size += 5 + MqttUtf8.GetByteCount(name, "user property name") + MqttUtf8.GetByteCount(value, "user property value");
            }
        }

        Fixed(properties.MaximumPacketSize, PropertyId.MaximumPacketSize, 4);
        Fixed(properties.WildcardSubscriptionAvailable, PropertyId.WildcardSubscriptionAvailable, 1);
        Fixed(properties.SubscriptionIdentifiersAvailable, PropertyId.SubscriptionIdentifierAvailable, 1);
        Fixed(properties.SharedSubscriptionAvailable, PropertyId.SharedSubscriptionAvailable, 1);
        return size;
    }

    /// <summary>Writes the block content measured by <see cref="Measure"/> (no length prefix).</summary>
    internal static void Write(ref MqttSpanWriter writer, MqttProperties? properties)
    {
        if (properties is null)
        {
            return;
        }

        if (properties.PayloadFormatIndicator is { } pfi) { writer.WriteByte((byte)PropertyId.PayloadFormatIndicator); writer.WriteByte((byte)pfi); }
        if (properties.MessageExpiryInterval is { } expiry) { writer.WriteByte((byte)PropertyId.MessageExpiryInterval); writer.WriteUInt32(expiry); }
        WriteText(ref writer, PropertyId.ContentType, properties.ContentType);
        WriteText(ref writer, PropertyId.ResponseTopic, properties.ResponseTopic);
        WriteBinary(ref writer, PropertyId.CorrelationData, properties.CorrelationData);
        if (properties.SubscriptionIdentifiers is { } ids)
        {
            foreach (var id in ids)
            {
                writer.WriteByte((byte)PropertyId.SubscriptionIdentifier);
                writer.WriteVariableByteInteger(id);
            }
        }

        if (properties.SessionExpiryInterval is { } session) { writer.WriteByte((byte)PropertyId.SessionExpiryInterval); writer.WriteUInt32(session); }
        WriteText(ref writer, PropertyId.AssignedClientIdentifier, properties.AssignedClientIdentifier);
        if (properties.ServerKeepAlive is { } keepAlive) { writer.WriteByte((byte)PropertyId.ServerKeepAlive); writer.WriteUInt16(keepAlive); }
        WriteText(ref writer, PropertyId.AuthenticationMethod, properties.AuthenticationMethod);
        WriteBinary(ref writer, PropertyId.AuthenticationData, properties.AuthenticationData);
        if (properties.RequestProblemInformation is { } rpi) { writer.WriteByte((byte)PropertyId.RequestProblemInformation); writer.WriteByte(rpi ? (byte)1 : (byte)0); }
        if (properties.WillDelayInterval is { } willDelay) { writer.WriteByte((byte)PropertyId.WillDelayInterval); writer.WriteUInt32(willDelay); }
        if (properties.RequestResponseInformation is { } rri) { writer.WriteByte((byte)PropertyId.RequestResponseInformation); writer.WriteByte(rri ? (byte)1 : (byte)0); }
        WriteText(ref writer, PropertyId.ResponseInformation, properties.ResponseInformation);
        WriteText(ref writer, PropertyId.ServerReference, properties.ServerReference);
        WriteText(ref writer, PropertyId.ReasonString, properties.ReasonString);
        if (properties.ReceiveMaximum is { } receiveMaximum) { writer.WriteByte((byte)PropertyId.ReceiveMaximum); writer.WriteUInt16(receiveMaximum); }
        if (properties.TopicAliasMaximum is { } aliasMaximum) { writer.WriteByte((byte)PropertyId.TopicAliasMaximum); writer.WriteUInt16(aliasMaximum); }
        if (properties.TopicAlias is { } alias) { writer.WriteByte((byte)PropertyId.TopicAlias); writer.WriteUInt16(alias); }
        if (properties.MaximumQoS is { } maximumQoS) { writer.WriteByte((byte)PropertyId.MaximumQoS); writer.WriteByte((byte)maximumQoS); }
        if (properties.RetainAvailable is { } retain) { writer.WriteByte((byte)PropertyId.RetainAvailable); writer.WriteByte(retain ? (byte)1 : (byte)0); }
        if (properties.UserProperties is { } user)
        {
            foreach (var (name, value) in user)
            {
                writer.WriteByte((byte)PropertyId.UserProperty);
                writer.WriteUtf8(name, MqttUtf8.GetByteCount(name, "user property name"));
                writer.WriteUtf8(value, MqttUtf8.GetByteCount(value, "user property value"));
            }
        }

        if (properties.MaximumPacketSize is { } maximumPacketSize) { writer.WriteByte((byte)PropertyId.MaximumPacketSize); writer.WriteUInt32(maximumPacketSize); }
        if (properties.WildcardSubscriptionAvailable is { } wildcard) { writer.WriteByte((byte)PropertyId.WildcardSubscriptionAvailable); writer.WriteByte(wildcard ? (byte)1 : (byte)0); }
        if (properties.SubscriptionIdentifiersAvailable is { } subIds) { writer.WriteByte((byte)PropertyId.SubscriptionIdentifierAvailable); writer.WriteByte(subIds ? (byte)1 : (byte)0); }
        if (properties.SharedSubscriptionAvailable is { } shared) { writer.WriteByte((byte)PropertyId.SharedSubscriptionAvailable); writer.WriteByte(shared ? (byte)1 : (byte)0); }
    }

    private static void WriteText(ref MqttSpanWriter writer, PropertyId id, string? value)
    {
        if (value is not null)
        {
            writer.WriteByte((byte)id);
            writer.WriteUtf8(value, MqttUtf8.GetByteCount(value, id.ToString()));
        }
    }

    private static void WriteBinary(ref MqttSpanWriter writer, PropertyId id, ReadOnlyMemory<byte>? value)
    {
        if (value is { } bytes)
        {
            writer.WriteByte((byte)id);
            writer.WriteBinary(bytes.Span);
        }
    }

    private static void Allow(PropertyId id, PropertyContext context)
    {
        if (!PropertyTable.IsAllowed(id, context))
        {
            throw new ArgumentException($"Property {id} is not allowed in {context} (MQTT 5, 2.2.2.2).");
        }
    }
}
