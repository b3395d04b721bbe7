using System.Buffers;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Tests.Codec;

internal static class Codec
{
    public static byte[] Encode(MqttPacket packet, MqttProtocolVersion version)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var written = MqttPacketEncoder.Write(buffer, packet, version);
        Assert.Equal(written, buffer.WrittenCount);
        Assert.Equal(MqttPacketEncoder.GetSize(packet, version), written);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes one whole packet; <paramref name="toServer"/> says which side receives it.</summary>
    public static MqttPacket Decode(byte[] bytes, MqttProtocolVersion version, bool toServer, int maximumPacketSize = MqttPacketDecoder.AbsoluteMaximumPacketSize)
    {
        using var decoder = new MqttPacketDecoder(toServer, maximumPacketSize)
        {
            ProtocolVersion = bytes.Length > 0 && bytes[0] >> 4 == (int)PacketType.Connect ? MqttProtocolVersion.Unknown : version,
        };
        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(decoder.TryReadFrame(ref sequence, out var frame), "frame incomplete");
        var packet = decoder.Decode(frame);
        Assert.True(sequence.IsEmpty, "bytes left after the packet");
        return packet;
    }

    /// <summary>The exception decoding <paramref name="bytes"/> raises, or null.</summary>
    public static MqttProtocolException? DecodeError(byte[] bytes, MqttProtocolVersion version, bool toServer, int maximumPacketSize = MqttPacketDecoder.AbsoluteMaximumPacketSize)
    {
        try
        {
            using var decoder = new MqttPacketDecoder(toServer, maximumPacketSize)
            {
                ProtocolVersion = bytes.Length > 0 && bytes[0] >> 4 == (int)PacketType.Connect && toServer ? MqttProtocolVersion.Unknown : version,
            };
            var sequence = new ReadOnlySequence<byte>(bytes);
            if (!decoder.TryReadFrame(ref sequence, out var frame))
            {
                return null;
            }

            decoder.Decode(frame);
            return null;
        }
        catch (MqttProtocolException ex)
        {
            return ex;
        }
    }
}
