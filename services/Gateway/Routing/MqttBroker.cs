using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Gateway.Configuration;
using Platform.Gateway.Connections;
using Platform.Gateway.Sessions;
using Platform.Gateway.Telemetry;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using Platform.Mqtt.Topics;

namespace Platform.Gateway.Routing;

/// <summary>
/// The state every connection shares — sessions, the subscription index, retained messages, open
/// connections — and the operations on it: routing a message to its subscribers, subscribing,
/// publishing wills, ending sessions.
/// </summary>
/// <remarks>
/// Routing runs on the publisher's read loop: match the topic in the lock-free index, then put a
/// delivery into each subscriber session's lock-free queue. No lock is shared by all publishers;
/// a slow subscriber only fills its own bounded queue.
/// </remarks>
public sealed class MqttBroker
{
    /// <summary>SUBSCRIBE user property asking for the publisher's client id on every delivery.</summary>
    public const string PublisherInfoProperty = "publisher-info";

    /// <summary>User property carrying the publisher's client id to subscriptions that asked for it.</summary>
    public const string PublisherClientIdProperty = "mqtt.client_id";

    [ThreadStatic]
    private static RouteMatches? t_matches;

    private readonly GatewayOptions _options;
    private readonly ConcurrentDictionary<long, MqttConnection> _connections = new();
    private readonly RetainedMessageStore _retained = new();
    private long _nextConnectionId;

    public MqttBroker(IOptions<GatewayOptions> options, GatewayTelemetry telemetry, ISessionStore sessionStore, Security.IMqttAuthenticator authenticator)
    {
        _options = options.Value;
        Telemetry = telemetry;
        Authenticator = authenticator;
        var sessions = _options.Sessions;
        Limits = new SessionLimits(sessions.MaximumQueuedMessages, sessions.MaximumQueuedBytes, sessions.QueueQos0WhenOffline);
        var overrides = sessions.QueueOverrides
            .Select(o => (o.ClientIdPrefix, Limits: new SessionLimits(o.MaximumQueuedMessages, o.MaximumQueuedBytes, sessions.QueueQos0WhenOffline)))
            .ToArray();
        Sessions = new SessionRegistry(sessionStore, clientId =>
        {
            foreach (var (prefix, limits) in overrides)
            {
                if (clientId.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return limits;
                }
            }

            return Limits;
        });
        telemetry.Observe(this);
    }

    public GatewayTelemetry Telemetry { get; }

    public Security.IMqttAuthenticator Authenticator { get; }

    public GatewayOptions Options => _options;

    public SessionLimits Limits { get; }

    public SessionRegistry Sessions { get; }

    public SubscriptionTree<Subscription> Subscriptions { get; } = new();

    public RetainedMessageStore Retained => _retained;

    public int ConnectionCount => _connections.Count;

    public IEnumerable<MqttConnection> Connections => _connections.Values;

    public long Register(MqttConnection connection)
    {
        var id = Interlocked.Increment(ref _nextConnectionId);
        _connections[id] = connection;
        return id;
    }

    public void Unregister(long connectionId) => _connections.TryRemove(connectionId, out _);

    public MqttConnection? FindConnection(string clientId) =>
        Sessions.Store.TryGet(clientId, out var session) ? session.Connection : null;

    /// <summary>Finds the subscriptions matching <paramref name="topic"/> (UTF-8); valid until the next call on this thread.</summary>
    public RouteMatches Match(ReadOnlySpan<byte> topic)
    {
        var matches = t_matches ??= new RouteMatches();
        matches.Clear();
        var collector = new MatchCollector(matches);
        Subscriptions.Match(topic, ref collector);
        return matches;
    }

    /// <summary>Queues <paramref name="message"/> for every match; returns how many sessions it went to.</summary>
    public DeliveryOutcome Deliver(MqttMessage message, RouteMatches matches)
    {
        var delivered = default(DeliveryOutcome);
        var direct = matches.Direct;
        if (matches.NeedsDeduplication)
        {
            delivered += DeliverDeduplicated(message, direct);
        }
        else
        {
            foreach (var subscription in direct)
            {
                if (subscription.NoLocal && subscription.Session.ClientId == message.PublisherClientId)
                {
                    // No Local: not back to the publisher [MQTT-3.8.3-3].
                    continue;
                }

                var qos = (QualityOfService)Math.Min((byte)message.QoS, (byte)subscription.MaximumQoS);
                var delivery = new Delivery(message, qos, subscription.RetainAsPublished && message.Retain,
                    new SubscriptionIdentifiers(subscription.SubscriptionIdentifier), PublisherInfo: subscription.PublisherInfo);
                delivered += Enqueue(subscription.Session, delivery);
            }
        }

        foreach (var group in matches.Shared)
        {
            if (SelectSharedMember(group, message.PublisherClientId) is { } member)
            {
                var qos = (QualityOfService)Math.Min((byte)message.QoS, (byte)member.MaximumQoS);
                var delivery = new Delivery(message, qos, member.RetainAsPublished && message.Retain,
                    new SubscriptionIdentifiers(member.SubscriptionIdentifier), group, member.PublisherInfo);
                delivered += Enqueue(member.Session, delivery);
            }
        }

        return delivered;
    }

    /// <summary>Routes a message the broker itself publishes (a will), including retained handling.</summary>
    public DeliveryOutcome Publish(MqttMessage message)
    {
        if (message.Retain)
        {
            _retained.Update(message);
        }

        var matches = Match(message.Topic);
        return matches.IsEmpty ? default : Deliver(message, matches);
    }

    /// <summary>Publishes a will message on behalf of <paramref name="clientId"/> (3.1.2.5).</summary>
    public void PublishWill(string? clientId, MqttWillMessage will)
    {
        var now = Stopwatch.GetTimestamp();
        var message = new MqttMessage(
            System.Text.Encoding.UTF8.GetBytes(will.Topic),
            will.Payload.Span,
            ForwardedProperties.FromWill(will.Properties),
            will.QoS,
            will.Retain,
            MqttMessage.ExpiryFromInterval(will.Properties?.MessageExpiryInterval, now),
            clientId);
        Publish(message);
    }

    private DeliveryOutcome Enqueue(Session session, in Delivery delivery)
    {
        switch (session.TryEnqueue(delivery))
        {
            case EnqueueResult.Queued:
                return new DeliveryOutcome(1, 0);
            case EnqueueResult.DroppedOffline:
                Telemetry.RecordDrop(DropReason.Offline);
                return default;
            default:
                Telemetry.RecordDrop(DropReason.QueueFull);
                return new DeliveryOutcome(0, delivery.QoS == QualityOfService.AtMostOnce ? 0 : 1);
        }
    }

    /// <summary>
    /// A client with overlapping subscriptions gets the message once, at the highest QoS of its
    /// matching subscriptions [MQTT-3.3.4-2], with all their Subscription Identifiers [MQTT-3.3.4-3].
    /// </summary>
    private DeliveryOutcome DeliverDeduplicated(MqttMessage message, List<Subscription> direct)
    {
        var merged = new Dictionary<Session, (QualityOfService QoS, bool Retain, SubscriptionIdentifiers Ids, bool PublisherInfo)>(direct.Count, ReferenceEqualityComparer.Instance);
        foreach (var subscription in direct)
        {
            if (subscription.NoLocal && subscription.Session.ClientId == message.PublisherClientId)
            {
                continue;
            }

            var qos = (QualityOfService)Math.Min((byte)message.QoS, (byte)subscription.MaximumQoS);
            var retain = subscription.RetainAsPublished && message.Retain;
            merged[subscription.Session] = merged.TryGetValue(subscription.Session, out var existing)
                ? ((QualityOfService)Math.Max((byte)existing.QoS, (byte)qos), existing.Retain || retain, existing.Ids.Add(subscription.SubscriptionIdentifier), existing.PublisherInfo || subscription.PublisherInfo)
                : (qos, retain, new SubscriptionIdentifiers(subscription.SubscriptionIdentifier), subscription.PublisherInfo);
        }

        var delivered = default(DeliveryOutcome);
        foreach (var (session, (qos, retain, ids, publisherInfo)) in merged)
        {
            delivered += Enqueue(session, new Delivery(message, qos, retain, ids, PublisherInfo: publisherInfo));
        }

        return delivered;
    }

    /// <summary>
    /// Picks the shared-subscription member for one message (4.8.2): by default the next member in
    /// turn that is online and has queue room; by the publisher's client id when so configured.
    /// When no member is online the message waits in a member's session.
    /// </summary>
    private Subscription? SelectSharedMember(SharedSubscriptionGroup<Subscription> group, string? publisherClientId)
    {
        Subscriber<Subscription> member;
        if (_options.Sessions.SharedSubscriptionStrategy == SharedSubscriptionStrategy.HashClientId && publisherClientId is not null)
        {
            return group.TrySelectByHash(publisherClientId, static m => m.Value.Session.IsOnline, out member) ||
                   group.TrySelectByHash(publisherClientId, out member)
                ? member.Value
                : null;
        }

        return group.TrySelectRoundRobin(static m => m.Value.Session.IsOnline && m.Value.Session.QueuedCount < m.Value.Session.Limits.MaximumQueuedMessages / 2, out member) ||
               group.TrySelectRoundRobin(out member)
            ? member.Value
            : null;
    }

    /// <summary>
    /// Applies a SUBSCRIBE for <paramref name="session"/>: one reason code per filter, and the
    /// retained messages to send after the SUBACK.
    /// </summary>
    public (List<ReasonCode> ReasonCodes, List<Delivery> Retained) Subscribe(Session session, SubscribePacket packet, Security.MqttIdentity identity, bool v5)
    {
        var codes = new List<ReasonCode>(packet.Subscriptions.Count);
        var retained = new List<Delivery>();
        var subscriptionId = packet.Properties?.SubscriptionIdentifiers is [var id, ..] ? id : 0;
        // A subscriber (the Kafka bridge) may ask to learn who published each message; see docs/gateway.md.
        var publisherInfo = _options.Sessions.AllowPublisherInfo && packet.Properties?.GetUserProperty(PublisherInfoProperty) == "client-id";
        foreach (var requested in packet.Subscriptions)
        {
            var code = Validate(requested.TopicFilter, out var shared);
            if (code == ReasonCode.Success && !identity.Permissions.CanSubscribe(requested.TopicFilter))
            {
                code = ReasonCode.NotAuthorized;
            }

            if (code != ReasonCode.Success)
            {
                codes.Add(code);
                continue;
            }

            var subscription = new Subscription(session, requested.TopicFilter, requested.MaximumQoS)
            {
                NoLocal = requested.NoLocal,
                RetainAsPublished = requested.RetainAsPublished,
                RetainHandling = requested.RetainHandling,
                SubscriptionIdentifier = subscriptionId,
                IsShared = shared,
                PublisherInfo = publisherInfo,
            };

            bool isNew;
            lock (session.SyncRoot)
            {
                isNew = !session.Subscriptions.ContainsKey(requested.TopicFilter);
                if (isNew && session.Subscriptions.Count >= _options.Limits.MaximumSubscriptionsPerSession)
                {
                    codes.Add(ReasonCode.QuotaExceeded);
                    continue;
                }

                session.Subscriptions[requested.TopicFilter] = subscription;
                // Replacing keeps the filter's place in the index [MQTT-3.8.4-3].
                Subscriptions.Add(requested.TopicFilter, session.ClientId, subscription);
            }

            codes.Add((ReasonCode)(byte)requested.MaximumQoS);

            // A shared subscription gets no retained messages (4.8.2: they would go to every member
            // that joins); Retain Handling decides for the others [MQTT-3.3.1-9..11].
            var sendRetained = !shared && requested.RetainHandling switch
            {
                RetainHandling.SendAtSubscribe => true,
                RetainHandling.SendAtSubscribeIfNew => isNew,
                _ => false,
            };
            if (sendRetained)
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var message in _retained.FindMatching(requested.TopicFilter))
                {
                    if (message.HasExpired(now))
                    {
                        continue;
                    }

                    var qos = (QualityOfService)Math.Min((byte)message.QoS, (byte)requested.MaximumQoS);
                    retained.Add(new Delivery(message, qos, Retain: true, new SubscriptionIdentifiers(subscriptionId)));
                }
            }
        }

        return (codes, retained);
    }

    private ReasonCode Validate(string filter, out bool shared)
    {
        shared = false;
        string topicFilter;
        try
        {
            shared = SharedSubscription.TryParse(filter, out var parsed);
            topicFilter = shared ? parsed.TopicFilter : filter;
        }
        catch (MqttProtocolException ex)
        {
            return ex.ReasonCode;
        }

        if (TopicFilter.Validate(topicFilter) is not null)
        {
            return ReasonCode.TopicFilterInvalid;
        }

        if (topicFilter.Length > _options.Limits.MaximumTopicLength || CountLevels(topicFilter) > _options.Limits.MaximumTopicLevels)
        {
            return ReasonCode.TopicFilterInvalid;
        }

        return ReasonCode.Success;
    }

    public static int CountLevels(ReadOnlySpan<char> topic) => topic.Count('/') + 1;

    public ReasonCode Unsubscribe(Session session, string filter)
    {
        lock (session.SyncRoot)
        {
            if (!session.Subscriptions.Remove(filter))
            {
                return ReasonCode.NoSubscriptionExisted;
            }

            Subscriptions.Remove(filter, session.ClientId);
            return ReasonCode.Success;
        }
    }

    /// <summary>
    /// Ends a session: its subscriptions leave the index and what it still held for shared
    /// subscriptions goes to other members; the rest is discarded with the session (4.1).
    /// </summary>
    public void EndSession(Session session)
    {
        List<Delivery> unacknowledged;
        lock (session.SyncRoot)
        {
            foreach (var filter in session.Subscriptions.Keys)
            {
                Subscriptions.Remove(filter, session.ClientId);
            }

            session.Subscriptions.Clear();
            unacknowledged = session.Inflight.RemoveUnreleased();
            session.Inflight.Clear();
            session.AwaitingPubRel.Clear();
        }

        unacknowledged.AddRange(session.DrainQueue());
        Redistribute(session, unacknowledged, keepUndeliverable: false);
    }

    /// <summary>
    /// A persistent session's connection closed: messages it received through shared subscriptions
    /// and has not acknowledged, or not yet been sent, go to another online member of the group
    /// (4.8.2), so one stopped consumer does not hold up the group. Without such a member they stay.
    /// </summary>
    public void HandOverSharedDeliveries(Session session)
    {
        var shared = new List<Delivery>();
        bool hasSharedSubscriptions;
        lock (session.SyncRoot)
        {
            hasSharedSubscriptions = session.Subscriptions.Values.Any(static s => s.IsShared);
            shared.AddRange(session.Inflight.RemoveUnreleased(static d => d.SharedGroup is not null));
        }

        if (!hasSharedSubscriptions)
        {
            // The queue can only hold shared deliveries while a shared subscription exists; leaving
            // it alone keeps the order of everything else.
            Redistribute(session, shared, keepUndeliverable: true);
            return;
        }

        var own = new List<Delivery>();
        foreach (var delivery in session.DrainQueue())
        {
            (delivery.SharedGroup is null ? own : shared).Add(delivery);
        }

        if (own.Count > 0)
        {
            session.Requeue(own);
        }

        Redistribute(session, shared, keepUndeliverable: true);
    }

    /// <summary>
    /// Hands deliveries that came through a shared subscription to another online member of the
    /// same group (4.8.2: a member that is gone should not hold messages the group can process).
    /// Other deliveries are dropped: their session is ending.
    /// </summary>
    public void Redistribute(Session from, List<Delivery> deliveries, bool keepUndeliverable)
    {
        var kept = new List<Delivery>();
        foreach (var delivery in deliveries)
        {
            if (delivery.SharedGroup is not { } group)
            {
                if (keepUndeliverable)
                {
                    kept.Add(delivery);
                }

                continue;
            }

            if (group.TrySelectRoundRobin(static (m, leaving) => m.Value.Session != leaving && m.Value.Session.IsOnline, from, out var target))
            {
                target.Value.Session.Requeue([delivery with { Retain = false }]);
            }
            else if (keepUndeliverable)
            {
                kept.Add(delivery);
            }
            else
            {
                Telemetry.RecordDrop(DropReason.Offline);
            }
        }

        if (kept.Count > 0)
        {
            from.Requeue(kept);
        }
    }

    /// <summary>Messages waiting in all session queues (for the queue-depth gauge).</summary>
    public long QueuedMessages()
    {
        long total = 0;
        foreach (var session in Sessions.Store.All)
        {
            total += session.QueuedCount;
        }

        return total;
    }

    private readonly struct MatchCollector(RouteMatches matches) : ISubscriptionVisitor<Subscription>
    {
        public void OnSubscriber(string subscriberId, Subscription value) => matches.AddDirect(value);

        public void OnSharedGroup(SharedSubscriptionGroup<Subscription> group) => matches.Shared.Add(group);
    }
}

/// <summary>What became of one message: sessions it was queued for, and QoS 1/2 deliveries refused because a queue was full.</summary>
public readonly record struct DeliveryOutcome(int Delivered, int RefusedReliable)
{
    public static DeliveryOutcome operator +(DeliveryOutcome a, DeliveryOutcome b) => new(a.Delivered + b.Delivered, a.RefusedReliable + b.RefusedReliable);
}

/// <summary>The subscriptions one topic matched; reused per thread.</summary>
public sealed class RouteMatches
{
    public List<Subscription> Direct { get; } = [];

    public List<SharedSubscriptionGroup<Subscription>> Shared { get; } = [];

    /// <summary>Some matching session holds several subscriptions, so it may have matched twice.</summary>
    public bool NeedsDeduplication { get; private set; }

    public bool IsEmpty => Direct.Count == 0 && Shared.Count == 0;

    public void AddDirect(Subscription subscription)
    {
        Direct.Add(subscription);
        if (!NeedsDeduplication && subscription.Session.Subscriptions.Count > 1)
        {
            NeedsDeduplication = true;
        }
    }

    public void Clear()
    {
        Direct.Clear();
        Shared.Clear();
        NeedsDeduplication = false;
    }
}
