using System.Buffers.Binary;

namespace Platform.Mqtt.Codec;

/// <summary>Writes MQTT data types into a span sized beforehand (the encoder measures first).</summary>
internal ref struct MqttSpanWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteVariableByteInteger(uint value) => _position += VariableByteInteger.Write(_buffer[_position..], value);

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    /// <summary>Binary Data or an already-encoded UTF-8 string: two-byte length, then the bytes.</summary>
    public void WriteBinary(ReadOnlySpan<byte> bytes)
    {
        WriteUInt16((ushort)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>A string the caller measured with <see cref="MqttUtf8"/>; <paramref name="byteCount"/> is that measure.</summary>
    public void WriteUtf8(string value, int byteCount)
    {
        WriteUInt16((ushort)byteCount);
        _position += MqttUtf8.Encode(value, _buffer.Slice(_position, byteCount));
    }
}
