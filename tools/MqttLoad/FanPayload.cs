using System.Buffers.Binary;

namespace Platform.MqttLoad;

/// <summary>What the load tool puts at the start of every payload: who sent it, its number, when.</summary>
public static class FanPayload
{
    public const int HeaderSize = 14;

    public static void Write(Span<byte> payload, int publisher, uint sequence, long timestamp)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)publisher);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[2..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[6..], timestamp);
    }

    public static (int Publisher, uint Sequence, long Timestamp) Read(ReadOnlySpan<byte> payload) =>
        (BinaryPrimitives.ReadUInt16LittleEndian(payload), BinaryPrimitives.ReadUInt32LittleEndian(payload[2..]), BinaryPrimitives.ReadInt64LittleEndian(payload[6..]));
}
