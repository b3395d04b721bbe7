namespace Platform.Mqtt.Topics;

/// <summary>
/// Hands out the string for a topic level when a trie node is created, reusing a recently seen
/// equal string. With a million <c>vehicles/{vin}/commands</c> subscriptions every VIN node has a
/// <c>commands</c> child; without this each would carry its own copy of "commands" (about 40 bytes).
/// </summary>
/// <remarks>
/// A small direct-mapped cache rather than a real intern table: it never grows, forgets on
/// collision, and so keeps no level alive that the trie dropped. Repeating levels (<c>commands</c>,
/// <c>telemetry</c>) stay in it because they are met far more often than any one unique level
/// (a VIN) that may evict them. Used only by the trie's writer, under its lock.
/// </remarks>
internal sealed class LevelNameInterner
{
    private const int SlotCount = 1024;

    // Unique levels such as VINs or UUIDs are rarely repeated and long ones not worth holding on to.
    private const int MaxCachedLength = 64;

    private readonly string?[] _slots = new string?[SlotCount];

    public string GetOrCreate(ReadOnlySpan<char> level)
    {
        if (level.IsEmpty)
        {
            return string.Empty;
        }

        if (level.Length > MaxCachedLength)
        {
            return level.ToString();
        }

        ref var slot = ref _slots[string.GetHashCode(level) & (SlotCount - 1)];
        if (slot is { } cached && level.SequenceEqual(cached))
        {
            return cached;
        }

        var created = level.ToString();
        slot = created;
        return created;
    }
}
