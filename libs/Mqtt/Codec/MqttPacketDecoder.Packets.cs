using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

public sealed partial class MqttPacketDecoder
{
    private static ReadOnlySpan<byte> ProtocolNameMqtt => "MQTT"u8;

    private static ReadOnlySpan<byte> ProtocolNameMqisdp => "MQIsdp"u8;

    /// <summary>
    /// Decodes CONNECT (3.1) and adopts its protocol version. An unsupported version or protocol
    /// name raises <see cref="ReasonCode.UnsupportedProtocolVersion"/> with
    /// <see cref="MqttProtocolException.RequestedVersion"/> set, so the server can answer with the
    /// CONNACK its peer understands [MQTT-3.1.2-2].
    /// </summary>
    private ConnectPacket DecodeConnect(in MqttFrame frame)
    {
        if (!IsServer)
        {
            throw MqttProtocolException.Protocol("MQTT-3.1", "a server does not send CONNECT");
        }

        if (ProtocolVersion != MqttProtocolVersion.Unknown)
        {
            throw MqttProtocolException.Protocol("MQTT-3.1.0-2", "a second CONNECT on the same connection");
        }

        var reader = new MqttSpanReader(frame.Body);
        var name = reader.ReadUtf8("Protocol Name");
        var level = reader.ReadByte("Protocol Version");
        var version = (name.SequenceEqual(ProtocolNameMqtt), level) switch
        {
            (true, 4) => MqttProtocolVersion.V311,
            (true, 5) => MqttProtocolVersion.V500,
            _ when level == 3 && name.SequenceEqual(ProtocolNameMqisdp) => MqttProtocolVersion.V310,
            _ => MqttProtocolVersion.Unknown,
        };
        if (version == MqttProtocolVersion.Unknown)
        {
            throw new MqttProtocolException(
                ReasonCode.UnsupportedProtocolVersion,
                name.SequenceEqual(ProtocolNameMqtt) || name.SequenceEqual(ProtocolNameMqisdp) ? "MQTT-3.1.2-2" : "MQTT-3.1.2-1",
                $"unsupported protocol '{MqttUtf8.GetString(name)}' level {level}")
            {
                RequestedVersion = (MqttProtocolVersion)level,
            };
        }

        // From here on errors are reported in the client's own version.
        ProtocolVersion = version;
        var flags = reader.ReadByte("Connect Flags");
        if ((flags & 0x01) != 0)
        {
            throw MqttProtocolException.Malformed("MQTT-3.1.2-3", "the reserved Connect Flags bit is set");
        }

        var willFlag = (flags & 0x04) != 0;
        var willQoS = (flags >> 3) & 0x03;
        var willRetain = (flags & 0x20) != 0;
        var passwordFlag = (flags & 0x40) != 0;
        var userNameFlag = (flags & 0x80) != 0;
        if (!willFlag && willQoS != 0)
        {
            throw MqttProtocolException.Malformed("MQTT-3.1.2-11", "Will QoS is set without the Will Flag");
        }

        if (willQoS == 3)
        {
            throw MqttProtocolException.Malformed("MQTT-3.1.2-12", "Will QoS is 3");
        }

        if (!willFlag && willRetain)
        {
            throw MqttProtocolException.Malformed("MQTT-3.1.2-13", "Will Retain is set without the Will Flag");
        }

        if (!V5 && passwordFlag && !userNameFlag)
        {
            // MQTT 3.1.1 only; MQTT 5 allows a password without a user name.
            throw MqttProtocolException.Malformed("MQTT-3.1.2-22", "Password Flag is set without User Name Flag (3.1.1)");
        }

        var packet = new ConnectPacket
        {
            ProtocolVersion = version,
            CleanStart = (flags & 0x02) != 0,
            KeepAliveSeconds = reader.ReadUInt16("Keep Alive"),
        };
        if (V5)
        {
            packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.Connect, toServer: true);
            if (packet.Properties is { AuthenticationData: not null, AuthenticationMethod: null })
            {
                throw MqttProtocolException.Protocol("MQTT-3.1.2.11.10", "Authentication Data without Authentication Method");
            }
        }

        packet.ClientId = reader.ReadUtf8String("Client Identifier");
        if (willFlag)
        {
            var willProperties = V5 ? MqttPropertyCodec.Read(ref reader, PropertyContext.Will, toServer: true) : null;
            var willTopic = reader.ReadUtf8("Will Topic");
            Topics.TopicName.ThrowIfInvalid(willTopic, "Will Topic");
            packet.Will = new MqttWillMessage
            {
                Topic = MqttUtf8.GetString(willTopic),
                Payload = reader.ReadBinary("Will Payload").ToArray(),
                QoS = (QualityOfService)willQoS,
                Retain = willRetain,
                Properties = willProperties,
            };
        }

        if (userNameFlag)
        {
            packet.UserName = reader.ReadUtf8String("User Name");
        }

        if (passwordFlag)
        {
            packet.Password = reader.ReadBinary("Password").ToArray();
        }

        reader.ExpectEnd("CONNECT");
        return packet;
    }

    private ConnAckPacket DecodeConnAck(in MqttFrame frame)
    {
        if (IsServer)
        {
            throw MqttProtocolException.Protocol("MQTT-3.2", "a client does not send CONNACK");
        }

        var reader = new MqttSpanReader(frame.Body);
        var ackFlags = reader.ReadByte("Connect Acknowledge Flags");
        if ((ackFlags & 0xFE) != 0)
        {
            throw MqttProtocolException.Malformed("MQTT-3.2.2-1", "reserved Connect Acknowledge Flags bits are set");
        }

        var code = reader.ReadByte("Connect Reason Code");
        var packet = new ConnAckPacket { SessionPresent = (ackFlags & 0x01) != 0 };
        if (V5)
        {
            packet.ReasonCode = (ReasonCode)code;
            if (!ReasonCodes.IsValidFor(PacketType.ConnAck, packet.ReasonCode))
            {
                throw MqttProtocolException.Protocol("MQTT-3.2.2-8", $"0x{code:X2} is not a CONNACK reason code");
            }

            packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.ConnAck, toServer: false);
        }
        else
        {
            if (code > 5)
            {
                throw MqttProtocolException.Malformed("MQTT-3.2.2.3", $"CONNACK return code {code} is reserved");
            }

            packet.ReasonCode = ReasonCodes.FromConnectReturnCodeV3((ConnectReturnCodeV3)code);
        }

        if (packet.SessionPresent && packet.ReasonCode != ReasonCode.Success)
        {
            throw MqttProtocolException.Protocol("MQTT-3.2.2-6", "Session Present is set on a refused connection");
        }

        reader.ExpectEnd("CONNACK");
        return packet;
    }

    /// <summary>Decodes a PUBLISH (3.3) without copying; see <see cref="PublishView"/>.</summary>
    public PublishView DecodePublish(in MqttFrame frame)
    {
        var flags = frame.Flags;
        var qos = (QualityOfService)((flags >> 1) & 0x03);
        var reader = new MqttSpanReader(frame.Body);
        var topic = reader.ReadUtf8("Topic Name");
        if (topic.IndexOfAny((byte)'+', (byte)'#') >= 0)
        {
            throw new MqttProtocolException(ReasonCode.TopicNameInvalid, "MQTT-3.3.2-2", "Topic Name contains a wildcard character");
        }

        ushort packetId = 0;
        if (qos != QualityOfService.AtMostOnce)
        {
            packetId = ReadPacketId(ref reader, PacketType.Publish);
        }

        ReadOnlySpan<byte> properties = default;
        ushort alias = 0;
        uint? expiry = null;
        var format = PayloadFormat.Unspecified;
        ReadOnlySpan<byte> responseTopic = default, correlation = default, contentType = default;
        var userProperties = false;
        var subscriptionIds = 0;
        if (V5)
        {
            properties = MqttPropertyCodec.ReadBlock(ref reader);
            var iterator = new PropertyIterator(properties, PropertyContext.Publish, toServer: IsServer);
            while (iterator.MoveNext(out var p))
            {
                switch (p.Id)
                {
                    case PropertyId.TopicAlias: alias = (ushort)p.Integer; break;
                    case PropertyId.MessageExpiryInterval: expiry = p.Integer; break;
                    case PropertyId.PayloadFormatIndicator: format = (PayloadFormat)p.Integer; break;
                    case PropertyId.ResponseTopic:
                        if (p.Bytes.IndexOfAny((byte)'+', (byte)'#') >= 0)
                        {
                            throw MqttProtocolException.Protocol("MQTT-3.3.2-14", "Response Topic contains a wildcard character");
                        }

                        responseTopic = p.Bytes;
                        break;
                    case PropertyId.CorrelationData: correlation = p.Bytes; break;
                    case PropertyId.ContentType: contentType = p.Bytes; break;
                    case PropertyId.UserProperty: userProperties = true; break;
                    case PropertyId.SubscriptionIdentifier: subscriptionIds++; break;
                    default: break;
                }
            }

            if (topic.IsEmpty && alias == 0)
            {
                throw MqttProtocolException.Protocol("MQTT-3.3.2.3.4", "Topic Name is empty and there is no Topic Alias");
            }
        }
        else if (topic.IsEmpty)
        {
            throw MqttProtocolException.Protocol("MQTT-4.7.3-1", "Topic Name is empty");
        }

        return new PublishView
        {
            QoS = qos,
            Retain = (flags & 0x01) != 0,
            Dup = (flags & 0x08) != 0,
            PacketId = packetId,
            Topic = topic,
            Payload = reader.Rest,
            RawProperties = properties,
            TopicAlias = alias,
            MessageExpiryInterval = expiry,
            PayloadFormat = format,
            ResponseTopic = responseTopic,
            CorrelationData = correlation,
            ContentType = contentType,
            HasUserProperties = userProperties,
            SubscriptionIdentifierCount = subscriptionIds,
        };
    }

    /// <summary>PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7).</summary>
    public PublishAckPacket DecodePublishAck(in MqttFrame frame)
    {
        var reader = new MqttSpanReader(frame.Body);
        var packet = new PublishAckPacket(frame.Type, ReadPacketId(ref reader, frame.Type));
        if (V5)
        {
            // Reason code and properties may be omitted (3.4.2.1): 2 bytes means Success, no properties.
            if (!reader.End)
            {
                packet.ReasonCode = (ReasonCode)reader.ReadByte("Reason Code");
                if (!ReasonCodes.IsValidFor(frame.Type, packet.ReasonCode))
                {
                    throw MqttProtocolException.Protocol(AckReasonStatement(frame.Type), $"0x{(byte)packet.ReasonCode:X2} is not a {frame.Type} reason code");
                }

                if (!reader.End)
                {
                    packet.Properties = MqttPropertyCodec.Read(ref reader, ContextOf(frame.Type), toServer: IsServer);
                }
            }
        }

        reader.ExpectEnd(frame.Type.ToString());
        return packet;
    }

    private static string AckReasonStatement(PacketType type) => type switch
    {
        PacketType.PubAck => "MQTT-3.4.2-1",
        PacketType.PubRec => "MQTT-3.5.2-1",
        PacketType.PubRel => "MQTT-3.6.2-1",
        _ => "MQTT-3.7.2-1",
    };

    private static PropertyContext ContextOf(PacketType type) => type switch
    {
        PacketType.PubAck => PropertyContext.PubAck,
        PacketType.PubRec => PropertyContext.PubRec,
        PacketType.PubRel => PropertyContext.PubRel,
        _ => PropertyContext.PubComp,
    };

    private SubscribePacket DecodeSubscribe(in MqttFrame frame)
    {
        if (!IsServer)
        {
            throw MqttProtocolException.Protocol("MQTT-3.8", "a server does not send SUBSCRIBE");
        }

        var reader = new MqttSpanReader(frame.Body);
        var packet = new SubscribePacket { PacketId = ReadPacketId(ref reader, PacketType.Subscribe) };
        if (V5)
        {
            packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.Subscribe, toServer: true);
        }

        if (reader.End)
        {
            throw MqttProtocolException.Protocol("MQTT-3.8.3-2", "SUBSCRIBE has no topic filter");
        }

        while (!reader.End)
        {
            var filter = reader.ReadUtf8String("Topic Filter");
            var options = reader.ReadByte("Subscription Options");
            var qos = options & 0x03;
            if (qos == 3)
            {
                throw MqttProtocolException.Malformed("MQTT-3.8.3-1", "subscription Maximum QoS is 3");
            }

            if (!V5)
            {
                if ((options & 0xFC) != 0)
                {
                    throw MqttProtocolException.Malformed("MQTT-3.8.3-4", "reserved subscription option bits are set (3.1.1)");
                }

                packet.Subscriptions.Add(new MqttSubscription(filter, (QualityOfService)qos));
                continue;
            }

            if ((options & 0xC0) != 0)
            {
                throw MqttProtocolException.Malformed("MQTT-3.8.3-5", "reserved subscription option bits 6-7 are set");
            }

            var retainHandling = (options >> 4) & 0x03;
            if (retainHandling == 3)
            {
                throw MqttProtocolException.Protocol("MQTT-3.8.3.1", "Retain Handling is 3");
            }

            var noLocal = (options & 0x04) != 0;
            if (noLocal && filter.StartsWith(Topics.SharedSubscription.Prefix, StringComparison.Ordinal))
            {
                throw MqttProtocolException.Protocol("MQTT-3.8.3-4", "No Local is set on a shared subscription");
            }

            packet.Subscriptions.Add(new MqttSubscription(filter, (QualityOfService)qos)
            {
                NoLocal = noLocal,
                RetainAsPublished = (options & 0x08) != 0,
                RetainHandling = (RetainHandling)retainHandling,
            });
        }

        return packet;
    }

    private SubAckPacket DecodeSubAck(in MqttFrame frame)
    {
        if (IsServer)
        {
            throw MqttProtocolException.Protocol("MQTT-3.9", "a client does not send SUBACK");
        }

        var reader = new MqttSpanReader(frame.Body);
        var packet = new SubAckPacket { PacketId = ReadPacketId(ref reader, PacketType.SubAck) };
        if (V5)
        {
            packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.SubAck, toServer: false);
        }

        if (reader.End)
        {
            throw MqttProtocolException.Protocol("MQTT-3.9.3", "SUBACK has no reason code");
        }

        while (!reader.End)
        {
            var code = (ReasonCode)reader.ReadByte("SUBACK reason code");
            var valid = V5 ? ReasonCodes.IsValidFor(PacketType.SubAck, code) : code is ReasonCode.GrantedQoS0 or ReasonCode.GrantedQoS1 or ReasonCode.GrantedQoS2 or ReasonCode.UnspecifiedError;
            if (!valid)
            {
                throw MqttProtocolException.Protocol("MQTT-3.9.3", $"0x{(byte)code:X2} is not a SUBACK reason code");
            }

            packet.ReasonCodes.Add(code);
        }

        return packet;
    }

    private UnsubscribePacket DecodeUnsubscribe(in MqttFrame frame)
    {
        if (!IsServer)
        {
            throw MqttProtocolException.Protocol("MQTT-3.10", "a server does not send UNSUBSCRIBE");
        }

        var reader = new MqttSpanReader(frame.Body);
        var packet = new UnsubscribePacket { PacketId = ReadPacketId(ref reader, PacketType.Unsubscribe) };
        if (V5)
        {
            packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.Unsubscribe, toServer: true);
        }

        if (reader.End)
        {
            throw MqttProtocolException.Protocol("MQTT-3.10.3-2", "UNSUBSCRIBE has no topic filter");
        }

        while (!reader.End)
        {
            packet.TopicFilters.Add(reader.ReadUtf8String("Topic Filter"));
        }

        return packet;
    }

    private UnsubAckPacket DecodeUnsubAck(in MqttFrame frame)
    {
        if (IsServer)
        {
            throw MqttProtocolException.Protocol("MQTT-3.11", "a client does not send UNSUBACK");
        }

        var reader = new MqttSpanReader(frame.Body);
        var packet = new UnsubAckPacket { PacketId = ReadPacketId(ref reader, PacketType.UnsubAck) };
        if (V5)
        {
            packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.UnsubAck, toServer: false);
            if (reader.End)
            {
                throw MqttProtocolException.Protocol("MQTT-3.11.3", "UNSUBACK has no reason code");
            }

            while (!reader.End)
            {
                var code = (ReasonCode)reader.ReadByte("UNSUBACK reason code");
                if (!ReasonCodes.IsValidFor(PacketType.UnsubAck, code))
                {
                    throw MqttProtocolException.Protocol("MQTT-3.11.3", $"0x{(byte)code:X2} is not an UNSUBACK reason code");
                }

                packet.ReasonCodes.Add(code);
            }
        }

        reader.ExpectEnd("UNSUBACK");
        return packet;
    }

    private DisconnectPacket DecodeDisconnect(in MqttFrame frame)
    {
        var reader = new MqttSpanReader(frame.Body);
        var packet = new DisconnectPacket();
        if (V5 && !reader.End)
        {
            packet.ReasonCode = (ReasonCode)reader.ReadByte("Disconnect Reason Code");
            if (!ReasonCodes.IsValidFor(PacketType.Disconnect, packet.ReasonCode))
            {
                throw MqttProtocolException.Protocol("MQTT-3.14.2-1", $"0x{(byte)packet.ReasonCode:X2} is not a DISCONNECT reason code");
            }

            if (!reader.End)
            {
                packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.Disconnect, toServer: IsServer);
            }
        }

        reader.ExpectEnd("DISCONNECT");
        return packet;
    }

    private AuthPacket DecodeAuth(in MqttFrame frame)
    {
        var reader = new MqttSpanReader(frame.Body);
        var packet = new AuthPacket();
        if (!reader.End)
        {
            packet.ReasonCode = (ReasonCode)reader.ReadByte("Authenticate Reason Code");
            if (!ReasonCodes.IsValidFor(PacketType.Auth, packet.ReasonCode))
            {
                throw MqttProtocolException.Protocol("MQTT-3.15.2-1", $"0x{(byte)packet.ReasonCode:X2} is not an AUTH reason code");
            }

            if (!reader.End)
            {
                packet.Properties = MqttPropertyCodec.Read(ref reader, PropertyContext.Auth, toServer: IsServer);
            }
        }

        reader.ExpectEnd("AUTH");
        return packet;
    }
}
