using Platform.Mqtt.Topics;
using System.Buffers;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>
/// Encodes control packets into an <see cref="IBufferWriter{T}"/>: each packet is measured first,
/// then written into one span obtained from the writer, so a packet costs one buffer request.
/// Values the specification forbids (a property the packet type does not allow, QoS 0 with a
/// packet identifier, an invalid string) are rejected with <see cref="ArgumentException"/>.
/// </summary>
public static class MqttPacketEncoder
{
    /// <summary>Size of the encoded packet, fixed header included.</summary>
    public static int GetSize(MqttPacket packet, MqttProtocolVersion version)
    {
        var body = MeasureBody(packet, version, out _, out _);
        return 1 + VariableByteInteger.GetSize((uint)body) + body;
    }

    /// <summary>Writes <paramref name="packet"/> for a peer speaking <paramref name="version"/>; returns the bytes written.</summary>
    public static int Write(IBufferWriter<byte> output, MqttPacket packet, MqttProtocolVersion version)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        var body = MeasureBody(packet, version, out var propertyLength, out var willPropertyLength);
        if (body > VariableByteInteger.MaxValue)
        {
            throw new ArgumentException($"{packet.Type} body of {body} bytes exceeds the MQTT maximum of 268,435,455.", nameof(packet));
        }

        var total = 1 + VariableByteInteger.GetSize((uint)body) + body;
        var writer = new MqttSpanWriter(output.GetSpan(total));
        writer.WriteByte(FirstByte(packet));
        writer.WriteVariableByteInteger((uint)body);
        var v5 = version == MqttProtocolVersion.V500;
        switch (packet)
        {
            case ConnectPacket connect: WriteConnect(ref writer, connect, version, propertyLength, willPropertyLength); break;
            case ConnAckPacket connAck:
                writer.WriteByte(connAck.SessionPresent ? (byte)1 : (byte)0);
                writer.WriteByte(v5 ? (byte)connAck.ReasonCode : (byte)connAck.ReasonCode.ToConnectReturnCodeV3());
                WriteProperties(ref writer, connAck.Properties, propertyLength, v5);
                break;
            case PublishPacket publish:
                writer.WriteUtf8(publish.Topic, MqttUtf8.GetByteCount(publish.Topic, "Topic Name"));
                if (publish.QoS != QualityOfService.AtMostOnce)
                {
                    writer.WriteUInt16(publish.PacketId);
                }

                WriteProperties(ref writer, publish.Properties, propertyLength, v5);
                writer.WriteBytes(publish.Payload.Span);
                break;
            case PublishAckPacket ack:
                writer.WriteUInt16(ack.PacketId);
                if (v5 && (ack.ReasonCode != ReasonCode.Success || propertyLength > 0))
                {
                    writer.WriteByte((byte)ack.ReasonCode);
                    if (propertyLength > 0)
                    {
                        WriteProperties(ref writer, ack.Properties, propertyLength, v5);
                    }
                }

                break;
            case SubscribePacket subscribe:
                writer.WriteUInt16(subscribe.PacketId);
                WriteProperties(ref writer, subscribe.Properties, propertyLength, v5);
                foreach (var subscription in subscribe.Subscriptions)
                {
                    writer.WriteUtf8(subscription.TopicFilter, MqttUtf8.GetByteCount(subscription.TopicFilter, "Topic Filter"));
                    writer.WriteByte(SubscriptionOptions(subscription, v5));
                }

                break;
            case SubAckPacket subAck:
                writer.WriteUInt16(subAck.PacketId);
                WriteProperties(ref writer, subAck.Properties, propertyLength, v5);
                foreach (var code in subAck.ReasonCodes)
                {
                    writer.WriteByte(v5 || !code.IsFailure() ? (byte)code : (byte)0x80);
                }

                break;
            case UnsubscribePacket unsubscribe:
                writer.WriteUInt16(unsubscribe.PacketId);
                WriteProperties(ref writer, unsubscribe.Properties, propertyLength, v5);
                foreach (var filter in unsubscribe.TopicFilters)
                {
                    writer.WriteUtf8(filter, MqttUtf8.GetByteCount(filter, "Topic Filter"));
                }

                break;
            case UnsubAckPacket unsubAck:
                writer.WriteUInt16(unsubAck.PacketId);
                if (v5)
                {
                    WriteProperties(ref writer, unsubAck.Properties, propertyLength, v5);
                    foreach (var code in unsubAck.ReasonCodes)
                    {
                        writer.WriteByte((byte)code);
                    }
                }

                break;
            case DisconnectPacket disconnect when v5 && (disconnect.ReasonCode != ReasonCode.NormalDisconnection || propertyLength > 0):
                writer.WriteByte((byte)disconnect.ReasonCode);
                if (propertyLength > 0)
                {
                    WriteProperties(ref writer, disconnect.Properties, propertyLength, v5);
                }

                break;
            case AuthPacket auth when auth.ReasonCode != ReasonCode.Success || propertyLength > 0:
                writer.WriteByte((byte)auth.ReasonCode);
                WriteProperties(ref writer, auth.Properties, propertyLength, v5);
                break;
            default:
                break;
        }

        output.Advance(total);
        return total;
    }

    /// <summary>
    /// The broker's PUBLISH fast path: topic and payload as bytes, the MQTT 5 property block already
    /// encoded (without its length; ignored for 3.1.1).
    /// </summary>
    public static int WritePublish(
        IBufferWriter<byte> output,
        MqttProtocolVersion version,
        ReadOnlySpan<byte> topicUtf8,
        ReadOnlySpan<byte> payload,
        QualityOfService qos,
        bool retain,
        bool dup,
        ushort packetId,
        ReadOnlySpan<byte> properties = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var v5 = version == MqttProtocolVersion.V500;
        var propertyBytes = v5 ? properties.Length : 0;
        var body = 2 + topicUtf8.Length + (qos == QualityOfService.AtMostOnce ? 0 : 2) + payload.Length
            + (v5 ? VariableByteInteger.GetSize((uint)propertyBytes) + propertyBytes : 0);
        var total = 1 + VariableByteInteger.GetSize((uint)body) + body;
        var writer = new MqttSpanWriter(output.GetSpan(total));
        writer.WriteByte(PublishFirstByte(qos, retain, dup));
        writer.WriteVariableByteInteger((uint)body);
        writer.WriteBinary(topicUtf8);
        if (qos != QualityOfService.AtMostOnce)
        {
            writer.WriteUInt16(packetId);
        }

        if (v5)
        {
            writer.WriteVariableByteInteger((uint)propertyBytes);
            writer.WriteBytes(properties);
        }

        writer.WriteBytes(payload);
        output.Advance(total);
        return total;
    }

    /// <summary>PUBACK/PUBREC/PUBREL/PUBCOMP without properties (the common case), in 4 or 5 bytes.</summary>
    public static int WritePublishAck(IBufferWriter<byte> output, MqttProtocolVersion version, PacketType type, ushort packetId, ReasonCode reasonCode = ReasonCode.Success)
    {
        ArgumentNullException.ThrowIfNull(output);
        var withReason = version == MqttProtocolVersion.V500 && reasonCode != ReasonCode.Success;
        var total = withReason ? 5 : 4;
        var span = output.GetSpan(total);
        span[0] = (byte)(((byte)type << 4) | (type == PacketType.PubRel ? 0b0010 : 0));
        span[1] = (byte)(total - 2);
        span[2] = (byte)(packetId >> 8);
        span[3] = (byte)packetId;
        if (withReason)
        {
            span[4] = (byte)reasonCode;
        }

        output.Advance(total);
        return total;
    }

    public static byte PublishFirstByte(QualityOfService qos, bool retain, bool dup) =>
        (byte)(((byte)PacketType.Publish << 4) | (dup ? 0x08 : 0) | ((byte)qos << 1) | (retain ? 1 : 0));

    private static byte FirstByte(MqttPacket packet) => packet switch
    {
        PublishPacket publish => PublishFirstByte(publish.QoS, publish.Retain, publish.Dup),
        { Type: PacketType.PubRel or PacketType.Subscribe or PacketType.Unsubscribe } => (byte)(((byte)packet.Type << 4) | 0b0010),
        _ => (byte)((byte)packet.Type << 4),
    };

    private static byte SubscriptionOptions(MqttSubscription subscription, bool v5)
    {
        var options = (byte)subscription.MaximumQoS;
        if (v5)
        {
            options |= (byte)((subscription.NoLocal ? 0x04 : 0) | (subscription.RetainAsPublished ? 0x08 : 0) | ((byte)subscription.RetainHandling << 4));
        }

        return options;
    }

    private static void WriteProperties(ref MqttSpanWriter writer, MqttProperties? properties, int length, bool v5)
    {
        if (!v5)
        {
            return;
        }

        writer.WriteVariableByteInteger((uint)length);
        MqttPropertyCodec.Write(ref writer, properties);
    }

    private static void WriteConnect(ref MqttSpanWriter writer, ConnectPacket connect, MqttProtocolVersion version, int propertyLength, int willPropertyLength)
    {
        var v5 = version == MqttProtocolVersion.V500;
        if (version == MqttProtocolVersion.V310)
        {
            writer.WriteBinary("MQIsdp"u8);
        }
        else
        {
            writer.WriteBinary("MQTT"u8);
        }

        writer.WriteByte((byte)version);
        var flags = (connect.CleanStart ? 0x02 : 0)
            | (connect.Will is { } will ? 0x04 | ((byte)will.QoS << 3) | (will.Retain ? 0x20 : 0) : 0)
            | (connect.Password is not null ? 0x40 : 0)
            | (connect.UserName is not null ? 0x80 : 0);
        writer.WriteByte((byte)flags);
        writer.WriteUInt16(connect.KeepAliveSeconds);
        WriteProperties(ref writer, connect.Properties, propertyLength, v5);
        writer.WriteUtf8(connect.ClientId, MqttUtf8.GetByteCount(connect.ClientId, "Client Identifier"));
        if (connect.Will is { } w)
        {
            WriteProperties(ref writer, w.Properties, willPropertyLength, v5);
            writer.WriteUtf8(w.Topic, MqttUtf8.GetByteCount(w.Topic, "Will Topic"));
            writer.WriteBinary(w.Payload.Span);
        }

        if (connect.UserName is { } userName)
        {
            writer.WriteUtf8(userName, MqttUtf8.GetByteCount(userName, "User Name"));
        }

        if (connect.Password is { } password)
        {
            writer.WriteBinary(password.Span);
        }
    }

    private static int MeasureBody(MqttPacket packet, MqttProtocolVersion version, out int propertyLength, out int willPropertyLength)
    {
        var v5 = version == MqttProtocolVersion.V500;
        willPropertyLength = 0;
        propertyLength = v5 ? MqttPropertyCodec.Measure(packet.Properties, ContextOf(packet)) : 0;
        var properties = v5 ? VariableByteInteger.GetSize((uint)propertyLength) + propertyLength : 0;
        switch (packet)
        {
            case ConnectPacket connect:
            {
                if (version is not (MqttProtocolVersion.V310 or MqttProtocolVersion.V311 or MqttProtocolVersion.V500))
                {
                    throw new ArgumentException($"Cannot encode CONNECT for protocol version {version}.", nameof(version));
                }

                if (!v5 && connect.Password is not null && connect.UserName is null)
                {
                    throw new ArgumentException("MQTT 3.1.1 requires a user name when a password is sent [MQTT-3.1.2-22].", nameof(packet));
                }

                var size = 2 + (version == MqttProtocolVersion.V310 ? 6 : 4) + 1 + 1 + 2 + properties
                    + 2 + MqttUtf8.GetByteCount(connect.ClientId, "Client Identifier");
                if (connect.Will is { } will)
                {
                    if (!TopicName.IsValid(will.Topic))
                    {
                        throw new ArgumentException($"Will Topic '{will.Topic}' is not a valid topic name.", nameof(packet));
                    }

                    ThrowIfInvalidQoS(will.QoS);
                    willPropertyLength = v5 ? MqttPropertyCodec.Measure(will.Properties, PropertyContext.Will) : 0;
                    size += (v5 ? VariableByteInteger.GetSize((uint)willPropertyLength) + willPropertyLength : 0)
                        + 2 + MqttUtf8.GetByteCount(will.Topic, "Will Topic") + 2 + CheckBinary(will.Payload.Length, "Will Payload");
                }

                if (connect.UserName is { } userName)
                {
                    size += 2 + MqttUtf8.GetByteCount(userName, "User Name");
                }

                if (connect.Password is { } password)
                {
                    size += 2 + CheckBinary(password.Length, "Password");
                }

                return size;
            }

            case ConnAckPacket:
                return 2 + properties;
            case PublishPacket publish:
                ThrowIfInvalidQoS(publish.QoS);
                if ((publish.QoS == QualityOfService.AtMostOnce) != (publish.PacketId == 0))
                {
                    throw new ArgumentException(publish.QoS == QualityOfService.AtMostOnce
                        ? "A QoS 0 PUBLISH has no Packet Identifier [MQTT-2.2.1-2]."
                        : "A QoS 1 or 2 PUBLISH needs a non-zero Packet Identifier [MQTT-2.2.1-3].", nameof(packet));
                }

                if (publish.Dup && publish.QoS == QualityOfService.AtMostOnce)
                {
                    throw new ArgumentException("DUP must be 0 for QoS 0 [MQTT-3.3.1-2].", nameof(packet));
                }

                if (publish.Topic.AsSpan().IndexOfAny('+', '#') >= 0 || (publish.Topic.Length == 0 && !(v5 && publish.Properties?.TopicAlias is > 0)))
                {
                    throw new ArgumentException($"'{publish.Topic}' is not a valid Topic Name for PUBLISH.", nameof(packet));
                }

                return 2 + MqttUtf8.GetByteCount(publish.Topic, "Topic Name") + (publish.QoS == QualityOfService.AtMostOnce ? 0 : 2)
                    + properties + publish.Payload.Length;
            case PublishAckPacket ack:
                RequirePacketId(ack.PacketId, ack.Type);
                if (!v5)
                {
                    return 2;
                }

                return propertyLength > 0 ? 3 + properties : ack.ReasonCode != ReasonCode.Success ? 3 : 2;
            case SubscribePacket subscribe:
            {
                RequirePacketId(subscribe.PacketId, PacketType.Subscribe);
                if (subscribe.Subscriptions.Count == 0)
                {
                    throw new ArgumentException("SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-2].", nameof(packet));
                }

                var size = 2 + properties;
                foreach (var subscription in subscribe.Subscriptions)
                {
                    ThrowIfInvalidQoS(subscription.MaximumQoS);
                    if (subscription.RetainHandling > RetainHandling.DoNotSend)
                    {
                        throw new ArgumentException("Retain Handling must be 0, 1 or 2.", nameof(packet));
                    }

                    size += 3 + MqttUtf8.GetByteCount(subscription.TopicFilter, "Topic Filter");
                }

                return size;
            }

            case SubAckPacket subAck:
                RequirePacketId(subAck.PacketId, PacketType.SubAck);
                return 2 + properties + subAck.ReasonCodes.Count;
            case UnsubscribePacket unsubscribe:
            {
                RequirePacketId(unsubscribe.PacketId, PacketType.Unsubscribe);
                if (unsubscribe.TopicFilters.Count == 0)
                {
                    throw new ArgumentException("UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2].", nameof(packet));
                }

                var size = 2 + properties;
                foreach (var filter in unsubscribe.TopicFilters)
                {
                    size += 2 + MqttUtf8.GetByteCount(filter, "Topic Filter");
                }

                return size;
            }

            case UnsubAckPacket unsubAck:
                RequirePacketId(unsubAck.PacketId, PacketType.UnsubAck);
                return v5 ? 2 + properties + unsubAck.ReasonCodes.Count : 2;
            case PingReqPacket or PingRespPacket:
                return 0;
            case DisconnectPacket disconnect:
                if (!v5)
                {
                    return 0;
                }

                return propertyLength > 0 ? 1 + properties : disconnect.ReasonCode != ReasonCode.NormalDisconnection ? 1 : 0;
            case AuthPacket auth:
                if (!v5)
                {
                    throw new ArgumentException("AUTH exists only in MQTT 5.", nameof(packet));
                }

                return propertyLength > 0 || auth.ReasonCode != ReasonCode.Success ? 1 + properties : 0;
            default:
                throw new ArgumentException($"Unknown packet {packet.GetType().Name}.", nameof(packet));
        }
    }

    private static int CheckBinary(int length, string field) => length <= ushort.MaxValue
        ? length
        : throw new ArgumentException($"{field} is longer than 65,535 bytes (1.5.6).", field);

    private static void RequirePacketId(ushort packetId, PacketType type)
    {
        if (packetId == 0)
        {
            throw new ArgumentException($"{type} needs a non-zero Packet Identifier [MQTT-2.2.1-3].");
        }
    }

    private static void ThrowIfInvalidQoS(QualityOfService qos)
    {
        if (qos > QualityOfService.ExactlyOnce)
        {
            throw new ArgumentException($"QoS {(int)qos} does not exist.");
        }
    }

    private static PropertyContext ContextOf(MqttPacket packet) => packet.Type switch
    {
        PacketType.Connect => PropertyContext.Connect,
        PacketType.ConnAck => PropertyContext.ConnAck,
        PacketType.Publish => PropertyContext.Publish,
        PacketType.PubAck => PropertyContext.PubAck,
        PacketType.PubRec => PropertyContext.PubRec,
        PacketType.PubRel => PropertyContext.PubRel,
        PacketType.PubComp => PropertyContext.PubComp,
        PacketType.Subscribe => PropertyContext.Subscribe,
        PacketType.SubAck => PropertyContext.SubAck,
        PacketType.Unsubscribe => PropertyContext.Unsubscribe,
        PacketType.UnsubAck => PropertyContext.UnsubAck,
        PacketType.Disconnect => PropertyContext.Disconnect,
        PacketType.Auth => PropertyContext.Auth,
        _ => PropertyContext.None,
    };
}
