namespace Platform.Mqtt.Topics;

/// <summary>
/// A subscriber of one topic filter and what the broker stored with it (typically the subscription
/// options of 3.8.3.1 and the session to deliver to).
/// </summary>
public readonly record struct Subscriber<T>(string SubscriberId, T Value);
