using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Platform.Mqtt.Topics;

/// <summary>
/// The sessions subscribed to <c>$share/{ShareName}/{TopicFilter}</c> (4.8.2). A message matching the
/// filter goes to one member of the group only; which one is the server's choice, and these helpers
/// give the broker two policies without taking locks.
/// </summary>
/// <remarks>
/// Members are an immutable snapshot replaced on every join or leave (under the tree's writer lock),
/// so readers on the publish path never lock and always see a whole member list. Joining copies the
/// list, which suits groups of up to a few hundred consumers, the intended use. A group reported by
/// <see cref="SubscriptionTree{T}.Match{TVisitor}(ReadOnlySpan{char}, ref TVisitor)"/> concurrently
/// with its last member leaving can be empty, so every selection can fail.
/// </remarks>
public sealed class SharedSubscriptionGroup<T>
{
    private MemberSnapshot _snapshot = MemberSnapshot.Empty;
    private int _roundRobinCursor = -1;

    internal SharedSubscriptionGroup(string shareName, string topicFilter)
    {
        ShareName = shareName;
        TopicFilter = topicFilter;
    }

    /// <summary>The ShareName, e.g. <c>analytics</c> for <c>$share/analytics/vehicles/+/telemetry</c>.</summary>
    public string ShareName { get; }

    /// <summary>The Topic Filter without the <c>$share/{ShareName}/</c> prefix.</summary>
    public string TopicFilter { get; }

    /// <summary>The current members; an immutable snapshot, safe to keep and enumerate.</summary>
    public ImmutableArray<Subscriber<T>> Members => ImmutableCollectionsMarshal.AsImmutableArray(Volatile.Read(ref _snapshot).Members);

    public int MemberCount => Volatile.Read(ref _snapshot).Members.Length;

    internal bool IsEmpty => _snapshot.Members.Length == 0;

    /// <summary>Picks members in turn, each call the next one (across all callers).</summary>
    public bool TrySelectRoundRobin(out Subscriber<T> member)
    {
        var members = Volatile.Read(ref _snapshot).Members;
        if (members.Length == 0)
        {
            member = default;
            return false;
        }

        member = members[NextRoundRobinStart(members.Length)];
        return true;
    }

    /// <summary>
    /// Picks the next member in turn that <paramref name="isAvailable"/> accepts (e.g. connected and
    /// below its Receive Maximum), trying each member at most once.
    /// </summary>
    public bool TrySelectRoundRobin(Func<Subscriber<T>, bool> isAvailable, out Subscriber<T> member) =>
        TrySelectRoundRobin(static (candidate, predicate) => predicate(candidate), isAvailable, out member);

    /// <summary>
    /// As <see cref="TrySelectRoundRobin(Func{Subscriber{T}, bool}, out Subscriber{T})"/>, passing
    /// <paramref name="state"/> through so a static lambda can be used and nothing is allocated.
    /// </summary>
    public bool TrySelectRoundRobin<TState>(Func<Subscriber<T>, TState, bool> isAvailable, TState state, out Subscriber<T> member)
    {
        ArgumentNullException.ThrowIfNull(isAvailable);
        var members = Volatile.Read(ref _snapshot).Members;
        if (members.Length > 0)
        {
            var index = NextRoundRobinStart(members.Length);
            for (var tried = 0; tried < members.Length; tried++)
            {
                if (isAvailable(members[index], state))
                {
                    member = members[index];
                    return true;
                }

                if (++index == members.Length)
                {
                    index = 0;
                }
            }
        }

        member = default;
        return false;
    }

    /// <summary>
    /// Picks the member owning <paramref name="key"/> (e.g. the VIN of the topic), so one vehicle's
    /// messages keep going to the same consumer and stay in order.
    /// </summary>
    /// <remarks>
    /// Rendezvous hashing: every member scores <c>hash(key, member)</c> and the highest wins. The
    /// answer depends only on the key and the set of member ids (not on join order, not on the
    /// process, because the hash is a fixed function rather than the randomized
    /// <see cref="string.GetHashCode()"/>), and when a member leaves only the keys it owned move.
    /// Cost is one multiply-mix per member.
    /// </remarks>
    public bool TrySelectByHash(ReadOnlySpan<char> key, out Subscriber<T> member) =>
        TrySelectByHash(key, static (_, _) => true, 0, out member);

    /// <summary>
    /// As <see cref="TrySelectByHash(ReadOnlySpan{char}, out Subscriber{T})"/> among the members
    /// <paramref name="isAvailable"/> accepts: the key's owner if available, otherwise the
    /// next-highest scoring member, so keys of an unavailable member spread over the others.
    /// </summary>
    public bool TrySelectByHash(ReadOnlySpan<char> key, Func<Subscriber<T>, bool> isAvailable, out Subscriber<T> member) =>
        TrySelectByHash(key, static (candidate, predicate) => predicate(candidate), isAvailable, out member);

    /// <summary>The allocation-free form of <see cref="TrySelectByHash(ReadOnlySpan{char}, Func{Subscriber{T}, bool}, out Subscriber{T})"/>.</summary>
    public bool TrySelectByHash<TState>(ReadOnlySpan<char> key, Func<Subscriber<T>, TState, bool> isAvailable, TState state, out Subscriber<T> member)
    {
        ArgumentNullException.ThrowIfNull(isAvailable);
        var snapshot = Volatile.Read(ref _snapshot);
        var keyHash = StableHash.Of(key);
        var best = -1;
        var bestScore = 0UL;
        for (var i = 0; i < snapshot.Members.Length; i++)
        {
            var score = StableHash.Mix(keyHash ^ snapshot.IdHashes[i]);

            // Only a member that would win is asked, so the predicate runs a few times, not once per member.
            if ((best < 0 || score > bestScore) && isAvailable(snapshot.Members[i], state))
            {
                best = i;
                bestScore = score;
            }
        }

        member = best < 0 ? default : snapshot.Members[best];
        return best >= 0;
    }

    /// <summary>Writer side: adds a member or replaces its value (same session, same shared subscription). True when new.</summary>
    internal bool AddOrReplace(string subscriberId, T value)
    {
        var current = _snapshot;
        var index = current.IndexOf(subscriberId);
        var members = current.Members;
        var idHashes = current.IdHashes;
        if (index >= 0)
        {
            var replaced = members.AsSpan().ToArray();
            replaced[index] = new Subscriber<T>(subscriberId, value);
            Volatile.Write(ref _snapshot, new MemberSnapshot(replaced, idHashes));
            return false;
        }

        var grownMembers = new Subscriber<T>[members.Length + 1];
        members.CopyTo(grownMembers, 0);
        grownMembers[^1] = new Subscriber<T>(subscriberId, value);
        var grownHashes = new ulong[idHashes.Length + 1];
        idHashes.CopyTo(grownHashes, 0);
        grownHashes[^1] = StableHash.Of(subscriberId);
        Volatile.Write(ref _snapshot, new MemberSnapshot(grownMembers, grownHashes));
        return true;
    }

    /// <summary>Writer side: removes a member; true when it was one.</summary>
    internal bool Remove(string subscriberId)
    {
        var current = _snapshot;
        var index = current.IndexOf(subscriberId);
        if (index < 0)
        {
            return false;
        }

        var members = current.Members.ToList();
        members.RemoveAt(index);
        var idHashes = current.IdHashes.ToList();
        idHashes.RemoveAt(index);
        Volatile.Write(ref _snapshot, new MemberSnapshot([.. members], [.. idHashes]));
        return true;
    }

    private int NextRoundRobinStart(int memberCount) =>
        (int)((uint)Interlocked.Increment(ref _roundRobinCursor) % (uint)memberCount);

    private sealed class MemberSnapshot(Subscriber<T>[] members, ulong[] idHashes)
    {
        public static readonly MemberSnapshot Empty = new([], []);

        public Subscriber<T>[] Members { get; } = members;

        /// <summary><see cref="StableHash.Of"/> of each member's id, computed once at join.</summary>
        public ulong[] IdHashes { get; } = idHashes;

        public int IndexOf(string subscriberId)
        {
            for (var i = 0; i < Members.Length; i++)
            {
                if (string.Equals(Members[i].SubscriberId, subscriberId, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }
    }
}

/// <summary>
/// A hash with a fixed definition, so every broker process maps the same key to the same member:
/// 64-bit FNV-1a over the UTF-16 code units, and a SplitMix64 finalizer to spread FNV's weak low bits.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffsetBasis = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    public static ulong Of(ReadOnlySpan<char> text)
    {
        var hash = FnvOffsetBasis;
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return Mix(hash);
    }

    public static ulong Mix(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB;
        return value ^ (value >> 31);
    }
}
