using System.Collections.Concurrent;
using System.Diagnostics;
using Platform.Gateway.Connections;

namespace Platform.Gateway.Sessions;

/// <summary>Where sessions live. In memory for now; a durable store that survives restarts plugs in here.</summary>
public interface ISessionStore
{
    bool TryGet(string clientId, out Session session);

    void Add(Session session);

    bool Remove(Session session);

    int Count { get; }

    IEnumerable<Session> All { get; }
}

public sealed class InMemorySessionStore : ISessionStore
{
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public IEnumerable<Session> All => _sessions.Values;

    public bool TryGet(string clientId, out Session session) => _sessions.TryGetValue(clientId, out session!);

    public void Add(Session session) => _sessions[session.ClientId] = session;

    public bool Remove(Session session) => _sessions.TryRemove(new KeyValuePair<string, Session>(session.ClientId, session));
}

/// <summary>The outcome of attaching a new connection to its session.</summary>
public readonly record struct SessionAttachment(Session Session, bool SessionPresent, MqttConnection? TakenOver, Session? Discarded);

/// <summary>
/// Finds or creates the session for a CONNECT, and handles takeover: a second connection with the
/// same client id replaces the first, which is then closed with 0x8E Session taken over (3.1.4).
/// Transitions for one client id are serialised by a striped lock, so concurrent CONNECTs with the
/// same id settle on one winner without a global lock.
/// </summary>
public sealed class SessionRegistry(ISessionStore store, Func<string, SessionLimits> limitsFor)
{
    private readonly Lock[] _stripes = Enumerable.Range(0, 64).Select(_ => new Lock()).ToArray();

    public ISessionStore Store { get; } = store;

    public SessionAttachment Attach(MqttConnection connection, string clientId, bool cleanStart, uint expiryIntervalSeconds)
    {
        lock (Stripe(clientId))
        {
            Session? discarded = null;
            if (Store.TryGet(clientId, out var existing) && !existing.HasEnded)
            {
                if (!cleanStart)
                {
                    var previous = existing.Attach(connection);
                    lock (existing.SyncRoot)
                    {
                        existing.ExpiryIntervalSeconds = expiryIntervalSeconds;
                        existing.DisconnectedAt = 0;
                    }

                    return new SessionAttachment(existing, SessionPresent: true, previous, null);
                }

                // Clean Start discards the existing session [MQTT-3.1.2-4].
                existing.HasEnded = true;
                Store.Remove(existing);
                discarded = existing;
            }

            var session = new Session(clientId, limitsFor(clientId)) { ExpiryIntervalSeconds = expiryIntervalSeconds };
            session.Attach(connection);
            Store.Add(session);
            var takenOver = discarded?.Connection;
            return new SessionAttachment(session, SessionPresent: false, takenOver, discarded);
        }
    }

    /// <summary>Detaches a closing connection; true when it was still the session's connection.</summary>
    public bool Detach(Session session, MqttConnection connection)
    {
        lock (Stripe(session.ClientId))
        {
            if (!session.Detach(connection))
            {
                return false;
            }

            lock (session.SyncRoot)
            {
                session.DisconnectedAt = Stopwatch.GetTimestamp();
            }

            return true;
        }
    }

    /// <summary>Ends a session that is not connected (expiry or zero expiry interval); false if it reconnected meanwhile.</summary>
    public bool TryEnd(Session session)
    {
        lock (Stripe(session.ClientId))
        {
            if (session.IsOnline || session.HasEnded)
            {
                return false;
            }

            session.HasEnded = true;
            Store.Remove(session);
            return true;
        }
    }

    private Lock Stripe(string clientId) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(clientId) % (uint)_stripes.Length];
}
