using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Routing;

/// <summary>
/// Builds the property block a message carries to every subscriber: the properties the server
/// must forward unaltered [MQTT-3.3.2-4] (Payload Format Indicator), [MQTT-3.3.2-20] (Content
/// Type), [MQTT-3.3.2-15] (Response Topic), [MQTT-3.3.2-16] (Correlation Data), [MQTT-3.3.2-17]
/// (User Properties, in order). Message Expiry, Topic Alias and Subscription Identifiers are
/// written per delivery. A <c>traceparent</c> user property can be replaced so subscribers continue
/// the broker's span rather than the publisher's.
/// </summary>
public static class ForwardedProperties
{
    public const string TraceParent = "traceparent";

    /// <summary>Re-encodes the forwardable part of a received PUBLISH's properties.</summary>
    public static byte[] FromReceived(ReadOnlySpan<byte> raw, string? replaceTraceParent = null)
    {
        if (raw.IsEmpty)
        {
            return [];
        }

        var output = new ArrayBufferWriter<byte>(raw.Length + 64);
        var iterator = new PropertyIterator(raw, PropertyContext.Publish);
        while (iterator.MoveNext(out var p))
        {
            switch (p.Id)
            {
                case PropertyId.PayloadFormatIndicator:
                    WriteByte(output, PropertyId.PayloadFormatIndicator, (byte)p.Integer);
                    break;
                case PropertyId.ContentType or PropertyId.ResponseTopic or PropertyId.CorrelationData:
                    WriteBinary(output, p.Id, p.Bytes);
                    break;
                case PropertyId.UserProperty:
                    var value = replaceTraceParent is not null && p.Bytes.SequenceEqual("traceparent"u8)
                        ? Encoding.UTF8.GetBytes(replaceTraceParent)
                        : p.PairValue;
                    WritePair(output, p.Bytes, value);
                    break;
                default:
                    break;
            }
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Encodes the forwardable part of a will message's properties.</summary>
    public static byte[] FromWill(MqttProperties? properties)
    {
        if (properties is null)
        {
            return [];
        }

        var output = new ArrayBufferWriter<byte>(64);
        if (properties.PayloadFormatIndicator is { } format)
        {
            WriteByte(output, PropertyId.PayloadFormatIndicator, (byte)format);
        }

        if (properties.ContentType is { } contentType)
        {
            WriteBinary(output, PropertyId.ContentType, Encoding.UTF8.GetBytes(contentType));
        }

        if (properties.ResponseTopic is { } responseTopic)
        {
            WriteBinary(output, PropertyId.ResponseTopic, Encoding.UTF8.GetBytes(responseTopic));
        }

        if (properties.CorrelationData is { } correlation)
        {
            WriteBinary(output, PropertyId.CorrelationData, correlation.Span);
        }

        foreach (var (name, value) in properties.UserProperties ?? [])
        {
            WritePair(output, Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(value));
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The value of the first <c>traceparent</c> user property, or null.</summary>
    public static string? FindTraceParent(ReadOnlySpan<byte> raw)
    {
        var iterator = new PropertyIterator(raw, PropertyContext.Publish);
        while (iterator.MoveNext(out var p))
        {
            if (p.Id == PropertyId.UserProperty && p.Bytes.SequenceEqual("traceparent"u8))
            {
                return MqttUtf8.GetString(p.PairValue);
            }
        }

        return null;
    }

    private static void WriteByte(IBufferWriter<byte> output, PropertyId id, byte value)
    {
        var span = output.GetSpan(2);
        span[0] = (byte)id;
        span[1] = value;
        output.Advance(2);
    }

    private static void WriteBinary(IBufferWriter<byte> output, PropertyId id, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(3 + bytes.Length);
        span[0] = (byte)id;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)bytes.Length);
        bytes.CopyTo(span[3..]);
        output.Advance(3 + bytes.Length);
    }

    private static void WritePair(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(5 + name.Length + value.Length);
        span[0] = (byte)PropertyId.UserProperty;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)name.Length);
        name.CopyTo(span[3..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[(3 + name.Length)..], (ushort)value.Length);
        value.CopyTo(span[(5 + name.Length)..]);
        output.Advance(5 + name.Length + value.Length);
    }
}
