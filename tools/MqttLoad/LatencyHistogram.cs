namespace Platform.MqttLoad;

/// <summary>
/// A log-linear latency histogram over microseconds (64 sub-buckets per power of two, so values are
/// kept within about 1.6 %), fixed size and allocation-free to record into.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int Powers = 40;
    private readonly long[] _counts = new long[Powers * SubBuckets];

    public long Count { get; private set; }

    public long MaxMicroseconds { get; private set; }

    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        _counts[IndexOf(microseconds)]++;
        Count++;
        if (microseconds > MaxMicroseconds)
        {
            MaxMicroseconds = microseconds;
        }
    }

    /// <summary>The value at or below which <paramref name="percentile"/> % of the recordings lie.</summary>
    public double Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var target = (long)Math.Ceiling(Count * percentile / 100.0);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
            {
                return Math.Min(UpperBound(i), MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }

    private static int IndexOf(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var power = 63 - (int)long.LeadingZeroCount(value) - SubBucketBits + 1;
        var sub = (int)(value >> power) - (SubBuckets / 2);
        var index = (power * (SubBuckets / 2)) + (SubBuckets / 2) + sub;
        return Math.Min(index, (Powers * SubBuckets) - 1);
    }

    private static double UpperBound(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var power = (index - (SubBuckets / 2)) / (SubBuckets / 2);
        var sub = ((index - (SubBuckets / 2)) % (SubBuckets / 2)) + (SubBuckets / 2);
        return ((long)(sub + 1) << power) - 1;
    }
}
