using Platform.Gateway.Routing;
using Platform.Mqtt.Protocol;
using Platform.Mqtt.Topics;

namespace Platform.Gateway.Sessions;

/// <summary>The Subscription Identifiers a delivery carries: usually none or one, so one is inline.</summary>
public readonly struct SubscriptionIdentifiers
{
    private readonly uint _single;
    private readonly uint[]? _many;

    public SubscriptionIdentifiers(uint single) => _single = single;

    private SubscriptionIdentifiers(uint[] many) => _many = many;

    public bool IsEmpty => _single == 0 && _many is null;

    public int Count => _many?.Length ?? (_single == 0 ? 0 : 1);

    public uint this[int index] => _many is { } many ? many[index] : index == 0 && _single != 0 ? _single : throw new ArgumentOutOfRangeException(nameof(index));

    public SubscriptionIdentifiers Add(uint identifier)
    {
        if (identifier == 0)
        {
            return this;
        }

        if (IsEmpty)
        {
            return new SubscriptionIdentifiers(identifier);
        }

        var many = new uint[Count + 1];
        for (var i = 0; i < Count; i++)
        {
            if (this[i] == identifier)
            {
                return this;
            }

            many[i] = this[i];
        }

        many[^1] = identifier;
        return new SubscriptionIdentifiers(many);
    }
}

/// <summary>One message on its way to one session, with what is specific to that subscriber.</summary>
/// <param name="SharedGroup">The shared subscription it was routed through, so it can go to another member if this one leaves.</param>
/// <param name="PublisherInfo">Add the publisher's client id as a user property (MQTT 5 subscribers that asked for it).</param>
public readonly record struct Delivery(
    MqttMessage Message,
    QualityOfService QoS,
    bool Retain,
    SubscriptionIdentifiers SubscriptionIdentifiers,
    SharedSubscriptionGroup<Subscription>? SharedGroup = null,
    bool PublisherInfo = false);
