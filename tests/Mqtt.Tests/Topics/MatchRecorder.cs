using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Tests.Topics;

/// <summary>Records what a match reports, as readable strings, for assertions.</summary>
internal struct MatchRecorder<T> : ISubscriptionVisitor<T>
{
    public MatchRecorder()
    {
    }

    public List<(string SubscriberId, T Value)> Subscribers { get; } = [];

    public List<SharedSubscriptionGroup<T>> Groups { get; } = [];

    public readonly void OnSubscriber(string subscriberId, T value) => Subscribers.Add((subscriberId, value));

    public readonly void OnSharedGroup(SharedSubscriptionGroup<T> group) => Groups.Add(group);
}

internal static class TopicTestExtensions
{
    /// <summary>Ids of the non-shared subscribers reported, sorted, duplicates kept.</summary>
    public static string[] MatchSubscribers<T>(this SubscriptionTree<T> tree, string topic) =>
        [.. tree.Record(topic).Subscribers.Select(s => s.SubscriberId).Order(StringComparer.Ordinal)];

    /// <summary>Shared groups reported, as <c>$share/{name}/{filter}</c>, sorted.</summary>
    public static string[] MatchGroups<T>(this SubscriptionTree<T> tree, string topic) =>
        [.. tree.Record(topic).Groups.Select(g => $"$share/{g.ShareName}/{g.TopicFilter}").Order(StringComparer.Ordinal)];

    public static MatchRecorder<T> Record<T>(this SubscriptionTree<T> tree, string topic)
    {
        var recorder = new MatchRecorder<T>();
        tree.Match(topic, ref recorder);
        return recorder;
    }

    public static string[] MatchingTopics<T>(this TopicNameIndex<T> index, string filter)
    {
        var topics = new List<string>();
        index.FindMatching(filter, (topic, _) => topics.Add(topic));
        return [.. topics.Order(StringComparer.Ordinal)];
    }
}
