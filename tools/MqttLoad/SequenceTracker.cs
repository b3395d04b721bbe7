namespace Platform.MqttLoad;

/// <summary>
/// Which sequence numbers of each (publisher, receiver) stream arrived: a growable bitmap per
/// stream, so loss, duplicates and out-of-order gaps are exact without keeping a list.
/// </summary>
public sealed class SequenceTracker(int streams)
{
    private readonly ulong[][] _seen = new ulong[streams][];
    private readonly uint[] _next = new uint[streams];

    public long Unique { get; private set; }

    public long Duplicates { get; private set; }

    /// <summary>Arrivals whose sequence was beyond the next expected one (a hole at that moment).</summary>
    public long Gaps { get; private set; }

    public void Record(int stream, uint sequence)
    {
        var bits = _seen[stream] ??= new ulong[1024];
        var word = (int)(sequence >> 6);
        if (word >= bits.Length)
        {
            Array.Resize(ref bits, Math.Max(bits.Length * 2, word + 1));
            _seen[stream] = bits;
        }

        var mask = 1UL << (int)(sequence & 63);
        if ((bits[word] & mask) != 0)
        {
            Duplicates++;
            return;
        }

        bits[word] |= mask;
        Unique++;
        if (sequence > _next[stream])
        {
            Gaps++;
        }

        if (sequence >= _next[stream])
        {
            _next[stream] = sequence + 1;
        }
    }
}
