using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Sessions;

/// <summary>One subscription of a session: what the subscription index holds for a matching filter.</summary>
public sealed class Subscription(Session session, string filter, QualityOfService maximumQoS)
{
    public Session Session { get; } = session;

    /// <summary>The filter as the client sent it, including a <c>$share/{group}/</c> prefix.</summary>
    public string Filter { get; } = filter;

    public QualityOfService MaximumQoS { get; init; } = maximumQoS;

    public bool NoLocal { get; init; }

    public bool RetainAsPublished { get; init; }

    public RetainHandling RetainHandling { get; init; }

    /// <summary>0 when the SUBSCRIBE carried no Subscription Identifier.</summary>
    public uint SubscriptionIdentifier { get; init; }

    public bool IsShared { get; init; }

    /// <summary>Deliveries through this subscription carry the publisher's client id as a user property.</summary>
    public bool PublisherInfo { get; init; }
}
