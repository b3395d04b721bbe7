using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>
/// One complete control packet cut from the input: its type, the four flag bits of the fixed
/// header and the body (variable header and payload). The body points into the caller's input or
/// the decoder's scratch buffer and is valid until the next read from the same decoder or until
/// the caller releases its input.
/// </summary>
public readonly ref struct MqttFrame
{
    internal MqttFrame(PacketType type, byte flags, ReadOnlySpan<byte> body, int length)
    {
        Type = type;
        Flags = flags;
        Body = body;
        Length = length;
    }

    public PacketType Type { get; }

    public byte Flags { get; }

    public ReadOnlySpan<byte> Body { get; }

    /// <summary>Bytes of the whole packet on the wire, fixed header included.</summary>
    public int Length { get; }
}
