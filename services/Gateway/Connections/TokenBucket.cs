using System.Diagnostics;

namespace Platform.Gateway.Connections;

/// <summary>
/// A token bucket refilled continuously at <c>rate</c> per second up to a burst of one second's
/// worth. Not thread-safe (one per connection); <see cref="SharedTokenBucket"/> locks.
/// </summary>
public struct TokenBucket
{
    private readonly double _ratePerSecond;
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(double ratePerSecond)
    {
        _ratePerSecond = ratePerSecond;
        _tokens = ratePerSecond;
        _lastRefill = Stopwatch.GetTimestamp();
    }

    public readonly bool IsUnlimited => _ratePerSecond <= 0;

    public bool TryTake(double amount, long now)
    {
        if (_ratePerSecond <= 0)
        {
            return true;
        }

        _tokens = Math.Min(_ratePerSecond, _tokens + (Stopwatch.GetElapsedTime(_lastRefill, now).TotalSeconds * _ratePerSecond));
        _lastRefill = now;
        if (_tokens < amount)
        {
            return false;
        }

        _tokens -= amount;
        return true;
    }
}

/// <summary>A token bucket shared by all connections of a listener (the connection rate limit).</summary>
public sealed class SharedTokenBucket(double ratePerSecond)
{
    private readonly Lock _gate = new();
    private TokenBucket _bucket = new(ratePerSecond);

    public bool TryTake()
    {
        if (_bucket.IsUnlimited)
        {
            return true;
        }

        lock (_gate)
        {
            return _bucket.TryTake(1, Stopwatch.GetTimestamp());
        }
    }
}
