using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Tests.Topics;

/// <summary>
/// The indexes against the reference matcher <see cref="TopicFilter.Matches"/> over random filters and
/// topics drawn from a small alphabet, so that overlaps, empty levels and '$' levels are frequent.
/// </summary>
public sealed class TopicMatchingCrossCheckTests
{
    private static readonly string[] TopicLevels = ["a", "b", "c", "", "$SYS", "$x", "long-level-name"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Subscription_tree_agrees_with_the_reference_matcher(int seed)
    {
        var random = new Random(seed);
        var tree = new SubscriptionTree<string>();

        // The model: what the tree should hold, keyed like the tree keys subscriptions.
        var model = new Dictionary<(string? ShareName, string Filter, string SubscriberId), string>();
        for (var i = 0; i < 3000; i++)
        {
            var filter = RandomFilter(random);
            var subscriberId = $"s{random.Next(40)}";
            var shareName = random.Next(5) == 0 ? $"g{random.Next(3)}" : null;
            var value = $"v{i}";
            var isNew = !model.ContainsKey((shareName, filter, subscriberId));
            model[(shareName, filter, subscriberId)] = value;

            Assert.Equal(isNew, tree.Add(shareName is null ? filter : $"$share/{shareName}/{filter}", subscriberId, value));
        }

        foreach (var key in model.Keys.Where(_ => random.Next(3) == 0).ToList())
        {
            model.Remove(key);
            Assert.True(tree.Remove(key.ShareName is null ? key.Filter : $"$share/{key.ShareName}/{key.Filter}", key.SubscriberId));
        }

        Assert.Equal(model.Count, tree.Count);

        // Values are unique per Add, so a reported value tells which filter reported the subscriber.
        var filterByValue = model.ToDictionary(entry => entry.Value, entry => entry.Key.Filter, StringComparer.Ordinal);
        var totalMatches = 0;
        for (var i = 0; i < 3000; i++)
        {
            var topic = RandomTopic(random);
            var expected = model
                .Where(entry => TopicFilter.Matches(entry.Key.Filter, topic))
                .Select(entry => Describe(entry.Key.ShareName, entry.Key.Filter, entry.Key.SubscriberId, entry.Value))
                .Order(StringComparer.Ordinal);

            var recorded = tree.Record(topic);
            var actual = recorded.Subscribers
                .Select(s => Describe(null, filterByValue[s.Value], s.SubscriberId, s.Value))
                .Concat(recorded.Groups.SelectMany(g => g.Members.Select(m => Describe(g.ShareName, g.TopicFilter, m.SubscriberId, m.Value))))
                .Order(StringComparer.Ordinal);

            Assert.Equal(expected, actual);
            totalMatches += recorded.Subscribers.Count;
        }

        // The alphabet is small on purpose: most topics must match something for the comparison to mean much.
        Assert.True(totalMatches > 10_000, $"only {totalMatches} matches");

        foreach (var key in model.Keys)
        {
            Assert.True(tree.Remove(key.ShareName is null ? key.Filter : $"$share/{key.ShareName}/{key.Filter}", key.SubscriberId));
        }

        Assert.Equal(0, tree.Count);
        Assert.Equal(0, tree.NodeCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Topic_name_index_agrees_with_the_reference_matcher(int seed)
    {
        var random = new Random(seed);
        var index = new TopicNameIndex<int>();
        var model = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 2000; i++)
        {
            var topic = RandomTopic(random);
            Assert.Equal(!model.ContainsKey(topic), index.Set(topic, i));
            model[topic] = i;
        }

        foreach (var topic in model.Keys.Where(_ => random.Next(3) == 0).ToList())
        {
            model.Remove(topic);
            Assert.True(index.Remove(topic));
        }

        Assert.Equal(model.Count, index.Count);
        foreach (var (topic, value) in model)
        {
            Assert.True(index.TryGet(topic, out var stored));
            Assert.Equal(value, stored);
        }

        var totalMatches = 0;
        for (var i = 0; i < 2000; i++)
        {
            var filter = RandomFilter(random);
            var expected = model.Where(entry => TopicFilter.Matches(filter, entry.Key)).Select(entry => $"{entry.Key}={entry.Value}").Order(StringComparer.Ordinal);
            var actual = new List<string>();
            index.FindMatching(filter, (topic, value) => actual.Add($"{topic}={value}"));

            Assert.Equal(expected, actual.Order(StringComparer.Ordinal));
            totalMatches += actual.Count;
        }

        Assert.True(totalMatches > 10_000, $"only {totalMatches} matches");

        foreach (var topic in model.Keys)
        {
            Assert.True(index.Remove(topic));
        }

        Assert.Equal(0, index.Count);
        Assert.Equal(0, index.NodeCount);
    }

    private static string Describe(string? shareName, string filter, string subscriberId, string value) =>
        $"{shareName ?? "-"} | {filter} | {subscriberId} | {value}";

    // A single empty level would be the empty string, which is neither a topic nor a filter [MQTT-4.7.3-1].
    private static string RandomTopic(Random random) =>
        string.Join('/', Enumerable.Range(0, random.Next(1, 6)).Select(_ => TopicLevels[random.Next(TopicLevels.Length)])) is { Length: > 0 } topic ? topic : "/";

    private static string RandomFilter(Random random)
    {
        var levels = new List<string>();
        var count = random.Next(1, 6);
        for (var i = 0; i < count; i++)
        {
            var pick = random.Next(10);
            if (pick == 0 && i == count - 1)
            {
                levels.Add("#");
            }
            else if (pick <= 2)
            {
                levels.Add("+");
            }
            else
            {
                levels.Add(TopicLevels[random.Next(TopicLevels.Length)]);
            }
        }

        return string.Join('/', levels) is { Length: > 0 } filter ? filter : "/";
    }
}
