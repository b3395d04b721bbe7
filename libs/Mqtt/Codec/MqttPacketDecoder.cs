using System.Buffers;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>
/// Cuts control packets out of a byte stream and decodes them, for one side of one connection.
/// </summary>
/// <remarks>
/// <para>Input arrives as <see cref="ReadOnlySequence{T}"/> from System.IO.Pipelines and a packet may
/// span segments. A packet that lies in one segment is decoded in place; one that spans segments is
/// copied once into a pooled scratch buffer. Before anything is buffered the declared size is checked
/// against <see cref="MaximumPacketSize"/>, so the decoder never holds more than that.</para>
/// <para>Every violation of the specification surfaces as <see cref="MqttProtocolException"/> with the
/// reason code to send; no other exception type escapes.</para>
/// </remarks>
public sealed partial class MqttPacketDecoder : IDisposable
{
    /// <summary>The largest packet MQTT can express: 1 + 4 + 268,435,455 bytes.</summary>
    public const int AbsoluteMaximumPacketSize = 268_435_460;

    private byte[]? _scratch;

    /// <param name="isServer">True when decoding what a client sent (the server side).</param>
    /// <param name="maximumPacketSize">Largest packet accepted, fixed header included.</param>
    public MqttPacketDecoder(bool isServer, int maximumPacketSize = AbsoluteMaximumPacketSize)
    {
        IsServer = isServer;
        MaximumPacketSize = maximumPacketSize;
    }

    public bool IsServer { get; }

    /// <summary>Unknown until a CONNECT has been decoded (server) or set by the client before CONNECT.</summary>
    public MqttProtocolVersion ProtocolVersion { get; set; }

    public int MaximumPacketSize { get; set; }

    /// <summary>
    /// Takes the next complete packet off the front of <paramref name="buffer"/> (which is advanced
    /// past it). Returns false, leaving <paramref name="buffer"/> unchanged, when more data is needed.
    /// </summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out MqttFrame frame)
    {
        frame = default;
        if (buffer.IsEmpty)
        {
            return false;
        }

        // The fixed header is at most 5 bytes; copy it out if it straddles segments.
        Span<byte> header = stackalloc byte[5];
        var first = buffer.FirstSpan;
        scoped ReadOnlySpan<byte> headerBytes;
        if (first.Length >= 5 || buffer.IsSingleSegment)
        {
            headerBytes = first;
        }
        else
        {
            var available = (int)Math.Min(5, buffer.Length);
            buffer.Slice(0, available).CopyTo(header);
            headerBytes = header[..available];
        }

        var status = VariableByteInteger.TryRead(headerBytes[1..], out var remaining, out var lengthBytes);
        if (status == VariableByteInteger.Status.NeedMoreData)
        {
            return false;
        }

        VariableByteInteger.ThrowIfInvalid(status, "Remaining Length");
        var total = 1L + lengthBytes + remaining;
        if (total > MaximumPacketSize)
        {
            throw new MqttProtocolException(
                ReasonCode.PacketTooLarge,
                IsServer ? "MQTT-3.2.2-15" : "MQTT-3.1.2-24",
                $"packet of {total} bytes exceeds the maximum packet size of {MaximumPacketSize}");
        }

        if (buffer.Length < total)
        {
            return false;
        }

        var typeAndFlags = headerBytes[0];
        var type = (PacketType)(typeAndFlags >> 4);
        var flags = (byte)(typeAndFlags & 0x0F);
        ValidateFixedHeader(type, flags);

        var bodyOffset = 1 + lengthBytes;
        ReadOnlySpan<byte> body;
        if (first.Length >= total)
        {
            body = first.Slice(bodyOffset, (int)remaining);
        }
        else
        {
            var scratch = RentScratch((int)remaining);
            buffer.Slice(bodyOffset, remaining).CopyTo(scratch);
            body = scratch.AsSpan(0, (int)remaining);
        }

        frame = new MqttFrame(type, flags, body, (int)total);
        buffer = buffer.Slice(total);
        return true;
    }

    private byte[] RentScratch(int size)
    {
        if (_scratch is null || _scratch.Length < size)
        {
            if (_scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(_scratch);
            }

            _scratch = ArrayPool<byte>.Shared.Rent(size);
        }

        return _scratch;
    }

    private void ValidateFixedHeader(PacketType type, byte flags)
    {
        switch (type)
        {
            case PacketType.Publish:
                if ((flags & 0b0110) == 0b0110)
                {
                    throw MqttProtocolException.Malformed("MQTT-3.3.1-4", "PUBLISH has both QoS bits set");
                }

                if ((flags & 0b1000) != 0 && (flags & 0b0110) == 0)
                {
                    throw MqttProtocolException.Malformed("MQTT-3.3.1-2", "DUP is set on a QoS 0 PUBLISH");
                }

                return;
            case PacketType.PubRel or PacketType.Subscribe or PacketType.Unsubscribe:
                if (flags != 0b0010)
                {
                    throw MqttProtocolException.Malformed(
                        type switch { PacketType.PubRel => "MQTT-3.6.1-1", PacketType.Subscribe => "MQTT-3.8.1-1", _ => "MQTT-3.10.1-1" },
                        $"{type} fixed header flags must be 0010, were {Convert.ToString(flags, 2).PadLeft(4, '0')}");
                }

                return;
            case PacketType.Auth when ProtocolVersion is not (MqttProtocolVersion.V500 or MqttProtocolVersion.Unknown):
                throw MqttProtocolException.Malformed("MQTT-2.1.2", "packet type 15 is reserved in MQTT 3.1.1");
            case >= PacketType.Connect and <= PacketType.Auth:
                if (flags != 0)
                {
                    throw MqttProtocolException.Malformed("MQTT-2.1.3-1", $"{type} reserved flag bits must be 0000");
                }

                return;
            default:
                throw MqttProtocolException.Malformed("MQTT-2.1.2", "packet type 0 is reserved");
        }
    }

    /// <summary>Decodes a frame into a packet that owns its data.</summary>
    public MqttPacket Decode(in MqttFrame frame)
    {
        if (ProtocolVersion == MqttProtocolVersion.Unknown && frame.Type != PacketType.Connect)
        {
            throw MqttProtocolException.Protocol("MQTT-3.1.0-1", $"the first packet must be CONNECT, was {frame.Type}");
        }

        return frame.Type switch
        {
            PacketType.Connect => DecodeConnect(frame),
            PacketType.ConnAck => DecodeConnAck(frame),
            PacketType.Publish => DecodePublish(frame).ToPacket(),
            PacketType.PubAck or PacketType.PubRec or PacketType.PubRel or PacketType.PubComp => DecodePublishAck(frame),
            PacketType.Subscribe => DecodeSubscribe(frame),
            PacketType.SubAck => DecodeSubAck(frame),
            PacketType.Unsubscribe => DecodeUnsubscribe(frame),
            PacketType.UnsubAck => DecodeUnsubAck(frame),
            PacketType.PingReq => ExpectEmpty(frame, PingReqPacket.Instance),
            PacketType.PingResp => ExpectEmpty(frame, PingRespPacket.Instance),
            PacketType.Disconnect => DecodeDisconnect(frame),
            PacketType.Auth => DecodeAuth(frame),
            _ => throw MqttProtocolException.Malformed("MQTT-2.1.2", $"unknown packet type {(int)frame.Type}"),
        };
    }

    private bool V5 => ProtocolVersion == MqttProtocolVersion.V500;

    private static MqttPacket ExpectEmpty(in MqttFrame frame, MqttPacket packet)
    {
        if (!frame.Body.IsEmpty)
        {
            throw MqttProtocolException.Malformed("MQTT-2.1.4", $"{frame.Type} must have Remaining Length 0");
        }

        return packet;
    }

    private static ushort ReadPacketId(ref MqttSpanReader reader, PacketType type)
    {
        var id = reader.ReadUInt16("Packet Identifier");
        if (id == 0)
        {
            throw MqttProtocolException.Protocol("MQTT-2.2.1-3", $"{type} has Packet Identifier 0");
        }

        return id;
    }

    public void Dispose()
    {
        if (_scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }
}
