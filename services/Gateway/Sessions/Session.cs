using System.Collections.Concurrent;
using System.Diagnostics;
using Platform.Gateway.Connections;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Sessions;

/// <summary>Why a delivery did not make it into a session's queue.</summary>
public enum EnqueueResult : byte
{
    Queued,
    DroppedQueueFull,
    DroppedOffline,
}

/// <summary>
/// The server side of an MQTT session (4.1): subscriptions, the queue of messages waiting to be sent,
/// outbound messages in flight, inbound QoS 2 packet identifiers awaiting PUBREL, expiry and will.
/// It outlives connections when the client asks for a persistent session.
/// </summary>
/// <remarks>
/// Publishers on any thread enqueue without locks (a lock-free multi-producer queue with
/// approximate bounds); the one connection attached drains it. Everything else is guarded by
/// <see cref="SyncRoot"/>, taken only by that connection and by session lifecycle changes.
/// </remarks>
public sealed class Session(string clientId, SessionLimits limits)
{
    private ConcurrentQueue<Delivery>? _queue;
    private int _queueCount;
    private long _queueBytes;
    private MqttConnection? _connection;

    public string ClientId { get; } = clientId;

    public object SyncRoot { get; } = new();

    public SessionLimits Limits { get; } = limits;

    /// <summary>Filter (as sent, with any $share prefix) → subscription. Guarded by <see cref="SyncRoot"/>.</summary>
    public Dictionary<string, Subscription> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>Outbound QoS 1/2 in flight. Guarded by <see cref="SyncRoot"/>.</summary>
    public InflightWindow Inflight { get; } = new();

    /// <summary>Inbound QoS 2 packet identifiers received and not yet released (4.3.3). Guarded by <see cref="SyncRoot"/>.</summary>
    public HashSet<ushort> AwaitingPubRel { get; } = [];

    /// <summary>Seconds the session lives after its connection closes; 0 ends it with the connection.</summary>
    public uint ExpiryIntervalSeconds { get; set; }

    /// <summary><see cref="Stopwatch"/> timestamp of the last disconnect; 0 while connected.</summary>
    public long DisconnectedAt { get; set; }

    /// <summary>The will of the last connection, kept while its publication waits for the Will Delay Interval.</summary>
    public MqttWillMessage? PendingWill { get; set; }

    /// <summary><see cref="Stopwatch"/> timestamp when <see cref="PendingWill"/> is due.</summary>
    public long WillDueAt { get; set; }

    public bool HasEnded { get; set; }

    public MqttConnection? Connection => Volatile.Read(ref _connection);

    public bool IsOnline => Connection is not null;

    public int QueuedCount => Volatile.Read(ref _queueCount);

    public long QueuedBytes => Interlocked.Read(ref _queueBytes);

    /// <summary>Attaches <paramref name="connection"/>, returning the connection it replaces.</summary>
    public MqttConnection? Attach(MqttConnection connection) => Interlocked.Exchange(ref _connection, connection);

    /// <summary>Detaches <paramref name="connection"/> if it is still the attached one.</summary>
    public bool Detach(MqttConnection connection) => Interlocked.CompareExchange(ref _connection, null, connection) == connection;

    /// <summary>
    /// Queues a delivery. Policy when the queue fills (documented in GatewayOptions): QoS 0 is
    /// dropped from half capacity on, QoS 1/2 at full capacity; QoS 0 for an offline session is
    /// dropped unless configured otherwise. Never blocks the publisher.
    /// </summary>
    public EnqueueResult TryEnqueue(in Delivery delivery)
    {
        var connection = Connection;
        var qos0 = delivery.QoS == QualityOfService.AtMostOnce;
        if (qos0 && connection is null && !Limits.QueueQos0WhenOffline)
        {
            return EnqueueResult.DroppedOffline;
        }

        var count = Volatile.Read(ref _queueCount);
        var bytes = Interlocked.Read(ref _queueBytes);
        var (countLimit, byteLimit) = qos0
            ? (Limits.MaximumQueuedMessages / 2, Limits.MaximumQueuedBytes / 2)
            : (Limits.MaximumQueuedMessages, Limits.MaximumQueuedBytes);
        if (count >= countLimit || bytes >= byteLimit)
        {
            return EnqueueResult.DroppedQueueFull;
        }

        var queue = _queue ?? EnsureQueue();
        queue.Enqueue(delivery);
        Interlocked.Increment(ref _queueCount);
        Interlocked.Add(ref _queueBytes, delivery.Message.PayloadLength);
        connection?.SignalOutbound();
        return EnqueueResult.Queued;
    }

    /// <summary>Queues deliveries handed over from a shared-subscription member that left; the queue bounds do not apply, nothing accepted is dropped.</summary>
    public void Requeue(IEnumerable<Delivery> deliveries)
    {
        var queue = _queue ?? EnsureQueue();
        foreach (var delivery in deliveries)
        {
            queue.Enqueue(delivery);
            Interlocked.Increment(ref _queueCount);
            Interlocked.Add(ref _queueBytes, delivery.Message.PayloadLength);
        }

        Connection?.SignalOutbound();
    }

    public bool TryPeek(out Delivery delivery)
    {
        if (_queue is { } queue)
        {
            return queue.TryPeek(out delivery);
        }

        delivery = default;
        return false;
    }

    public bool TryDequeue(out Delivery delivery)
    {
        if (_queue is { } queue && queue.TryDequeue(out delivery))
        {
            Interlocked.Decrement(ref _queueCount);
            Interlocked.Add(ref _queueBytes, -delivery.Message.PayloadLength);
            return true;
        }

        delivery = default;
        return false;
    }

    /// <summary>Empties the queue, returning what it held.</summary>
    public List<Delivery> DrainQueue()
    {
        var drained = new List<Delivery>();
        while (TryDequeue(out var delivery))
        {
            drained.Add(delivery);
        }

        return drained;
    }

    private ConcurrentQueue<Delivery> EnsureQueue()
    {
        // Created on first use: an idle connection's session should cost next to nothing.
        Interlocked.CompareExchange(ref _queue, new ConcurrentQueue<Delivery>(), null);
        return _queue!;
    }
}

/// <summary>Per-session bounds, shared by all sessions (one instance from configuration).</summary>
public sealed record SessionLimits(int MaximumQueuedMessages, long MaximumQueuedBytes, bool QueueQos0WhenOffline);
