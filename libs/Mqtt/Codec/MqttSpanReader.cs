using System.Buffers.Binary;
using System.Text.Unicode;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Codec;

/// <summary>
/// Reads MQTT data types (1.5) from one contiguous packet body. Every read checks bounds, so a
/// truncated packet becomes a Malformed Packet error, never an exception of another type.
/// </summary>
internal ref struct MqttSpanReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position >= _buffer.Length;

    public readonly ReadOnlySpan<byte> Rest => _buffer[_position..];

    public byte ReadByte(string field)
    {
        if (_position >= _buffer.Length)
        {
            throw Truncated(field);
        }

        return _buffer[_position++];
    }

    public ushort ReadUInt16(string field)
    {
        if (Remaining < 2)
        {
            throw Truncated(field);
        }

        var value = BinaryPrimitives.ReadUInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return value;
    }

    public uint ReadUInt32(string field)
    {
        if (Remaining < 4)
        {
            throw Truncated(field);
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return value;
    }

    /// <summary>A Variable Byte Integer (1.5.5): at most four bytes, in the fewest bytes possible.</summary>
    public uint ReadVariableByteInteger(string field)
    {
        var status = VariableByteInteger.TryRead(_buffer[_position..], out var value, out var length);
        if (status == VariableByteInteger.Status.NeedMoreData)
        {
            throw Truncated(field);
        }

        VariableByteInteger.ThrowIfInvalid(status, field);
        _position += length;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        if (count > Remaining)
        {
            throw Truncated(field);
        }

        var bytes = _buffer.Slice(_position, count);
        _position += count;
        return bytes;
    }

    /// <summary>Binary Data (1.5.6): a two-byte length and that many bytes.</summary>
    public ReadOnlySpan<byte> ReadBinary(string field) => ReadBytes(ReadUInt16(field), field);

    /// <summary>A UTF-8 Encoded String (1.5.4), validated; returned as its encoded bytes.</summary>
    public ReadOnlySpan<byte> ReadUtf8(string field)
    {
        var bytes = ReadBinary(field);
        MqttUtf8.ThrowIfInvalid(bytes, field);
        return bytes;
    }

    public string ReadUtf8String(string field) => MqttUtf8.GetString(ReadUtf8(field));

    public readonly void ExpectEnd(string packet)
    {
        if (!End)
        {
            throw MqttProtocolException.Malformed("MQTT-2.1.4", $"{packet} has {Remaining} byte(s) beyond its last field");
        }
    }

    private static MqttProtocolException Truncated(string field) =>
        MqttProtocolException.Malformed("MQTT-2.1.4", $"packet ends inside {field} (Remaining Length too short)");
}

/// <summary>UTF-8 Encoded String rules (1.5.4).</summary>
public static class MqttUtf8
{
    private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// True when <paramref name="bytes"/> is well-formed UTF-8 without surrogate code points
    /// [MQTT-1.5.4-1] and without U+0000 [MQTT-1.5.4-2]. A BOM (EF BB BF) is a valid U+FEFF and
    /// kept [MQTT-1.5.4-3].
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> bytes) => !bytes.Contains((byte)0) && Utf8.IsValid(bytes);

    internal static void ThrowIfInvalid(ReadOnlySpan<byte> bytes, string field)
    {
        if (bytes.Contains((byte)0))
        {
            throw MqttProtocolException.Malformed("MQTT-1.5.4-2", $"{field} contains U+0000");
        }

        if (!Utf8.IsValid(bytes))
        {
            throw MqttProtocolException.Malformed("MQTT-1.5.4-1", $"{field} is not well-formed UTF-8");
        }
    }

    public static string GetString(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : Strict.GetString(bytes);

    /// <summary>Encoded length of a string the application supplied, after checking it can be sent.</summary>
    public static int GetByteCount(string value, string field)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{field} must not contain U+0000 [MQTT-1.5.4-2].", field);
        }

        int count;
        try
        {
            count = Strict.GetByteCount(value);
        }
        catch (System.Text.EncoderFallbackException ex)
        {
            throw new ArgumentException($"{field} contains an unpaired surrogate [MQTT-1.5.4-1].", field, ex);
        }

        if (count > ushort.MaxValue)
        {
            throw new ArgumentException($"{field} is {count} bytes of UTF-8; the maximum is 65,535 (1.5.4).", field);
        }

        return count;
    }

    internal static int Encode(string value, Span<byte> destination) => Strict.GetBytes(value, destination);
}

/// <summary>Variable Byte Integer (1.5.5): 7 bits per byte, continuation in the high bit, at most 4 bytes.</summary>
public static class VariableByteInteger
{
    public const uint MaxValue = 268_435_455;

    public enum Status : byte
    {
        Ok,
        NeedMoreData,
        TooLong,
        NotMinimal,
    }

    public static int GetSize(uint value) => value switch
    {
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        <= MaxValue => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Variable Byte Integers hold at most 268,435,455."),
    };

    public static Status TryRead(ReadOnlySpan<byte> buffer, out uint value, out int length)
    {
        value = 0;
        length = 0;
        var shift = 0;
        for (var i = 0; i < 4; i++)
        {
            if (i >= buffer.Length)
            {
                return Status.NeedMoreData;
            }

            var b = buffer[i];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                length = i + 1;
                // A final byte of 0 after at least one other byte means a shorter encoding existed.
                return b == 0 && i > 0 ? Status.NotMinimal : Status.Ok;
            }

            shift += 7;
        }

        return Status.TooLong;
    }

    internal static void ThrowIfInvalid(Status status, string field)
    {
        switch (status)
        {
            case Status.TooLong:
                throw MqttProtocolException.Malformed("MQTT-1.5.5", $"{field} is a Variable Byte Integer longer than four bytes");
            case Status.NotMinimal:
                throw MqttProtocolException.Malformed("MQTT-1.5.5-1", $"{field} does not use the minimum number of bytes");
            default:
                break;
        }
    }

    public static int Write(Span<byte> destination, uint value)
    {
        var i = 0;
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if (value > 0)
            {
                b |= 0x80;
            }

            destination[i++] = b;
        }
        while (value > 0);

        return i;
    }
}
