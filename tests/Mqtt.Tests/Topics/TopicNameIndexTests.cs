using Platform.Mqtt.Protocol;
using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Tests.Topics;

public sealed class TopicNameIndexTests
{
    private static readonly string[] SportTopics =
    [
        "sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
        "sport/tennis/player1/score/wimbledon", "sport/tennis/player2", "/finance", "finance",
        "$SYS/monitor/Clients", "$SYS", "/",
    ];

    [Fact]
    public void Set_get_replace_and_remove()
    {
        var index = new TopicNameIndex<string>();

        Assert.True(index.Set("vehicles/VIN1/status", "online"));
        Assert.False(index.Set("vehicles/VIN1/status", "offline"));
        Assert.True(index.TryGet("vehicles/VIN1/status", out var value));
        Assert.Equal("offline", value);
        Assert.False(index.TryGet("vehicles/VIN1", out _));
        Assert.False(index.TryGet("vehicles/VIN1/status/x", out _));
        Assert.Equal(1, index.Count);

        Assert.True(index.Remove("vehicles/VIN1/status"));
        Assert.False(index.Remove("vehicles/VIN1/status"));
        Assert.False(index.TryGet("vehicles/VIN1/status", out _));
        Assert.Equal(0, index.Count);
        Assert.Equal(0, index.NodeCount);
    }

    [Theory]
    [InlineData("sport/tennis/player1/#", new[] { "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player1/score/wimbledon" })]
    [InlineData("sport/#", new[] { "sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player1/score/wimbledon", "sport/tennis/player2" })]
    [InlineData("sport/tennis/+", new[] { "sport/tennis/player1", "sport/tennis/player2" })]
    [InlineData("sport/+", new[] { "sport/", "sport/tennis" })]
    [InlineData("+/+", new[] { "/", "/finance", "sport/", "sport/tennis" })]
    [InlineData("/+", new[] { "/", "/finance" })]
    [InlineData("+", new[] { "finance", "sport" })]
    [InlineData("#", new[] { "/", "/finance", "finance", "sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player1/score/wimbledon", "sport/tennis/player2" })]
    [InlineData("+/monitor/Clients", new string[0])]
    [InlineData("$SYS/#", new[] { "$SYS", "$SYS/monitor/Clients" })]
    [InlineData("$SYS/monitor/+", new[] { "$SYS/monitor/Clients" })]
    [InlineData("sport/tennis/player1", new[] { "sport/tennis/player1" })]
    [InlineData("Sport", new string[0])]
    public void Find_matching_follows_the_specification_examples(string filter, string[] expected)
    {
        var index = new TopicNameIndex<int>();
        foreach (var topic in SportTopics)
        {
            index.Set(topic, 0);
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), index.MatchingTopics(filter));
        Assert.Equal(SportTopics.Where(t => TopicFilter.Matches(filter, t)).Order(StringComparer.Ordinal), index.MatchingTopics(filter));
    }

    [Fact]
    public void Find_matching_reports_the_stored_values()
    {
        var index = new TopicNameIndex<string>();
        index.Set("vehicles/VIN1/status", "one");
        index.Set("vehicles/VIN2/status", "two");
        index.Set("vehicles/VIN2/position", "elsewhere");
        var found = new List<(string, string)>();

        index.FindMatching("vehicles/+/status", (topic, value) => found.Add((topic, value)));

        Assert.Equal([("vehicles/VIN1/status", "one"), ("vehicles/VIN2/status", "two")], found.Order());
    }

    [Theory]
    [InlineData("", "MQTT-4.7.3-1")]
    [InlineData("a/+", "MQTT-3.3.2-2")]
    [InlineData("a/#", "MQTT-3.3.2-2")]
    [InlineData("a\0b", "MQTT-1.5.4-2")]
    public void Invalid_topic_names_are_rejected(string topic, string statement)
    {
        var index = new TopicNameIndex<int>();

        var error = Assert.Throws<MqttProtocolException>(() => index.Set(topic, 1));
        Assert.Equal(ReasonCode.TopicNameInvalid, error.ReasonCode);
        Assert.Equal(statement, error.Statement);
        Assert.Equal(0, index.NodeCount);
    }

    [Fact]
    public void Invalid_filters_are_rejected()
    {
        var index = new TopicNameIndex<int>();

        var error = Assert.Throws<MqttProtocolException>(() => index.MatchingTopics("a/#/b"));
        Assert.Equal(ReasonCode.TopicFilterInvalid, error.ReasonCode);
    }

    [Fact]
    public void Removing_prunes_only_unused_nodes()
    {
        var index = new TopicNameIndex<int>();
        index.Set("a/b", 1);
        index.Set("a/b/c/d", 2);

        index.Remove("a/b/c/d");
        Assert.Equal(2, index.NodeCount);
        Assert.Equal(["a/b"], index.MatchingTopics("#"));

        index.Set("a/b/c/d", 2);
        index.Remove("a/b");
        Assert.Equal(4, index.NodeCount);
        Assert.Equal(["a/b/c/d"], index.MatchingTopics("a/#"));

        index.Remove("a/b/c/d");
        Assert.Equal(0, index.NodeCount);
    }

    [Fact]
    public void Many_siblings_are_enumerated_by_a_wildcard_as_they_grow_and_shrink()
    {
        var index = new TopicNameIndex<int>();
        for (var i = 0; i < 500; i++)
        {
            index.Set($"vehicles/VIN{i}/status", i);
        }

        Assert.Equal(500, index.MatchingTopics("vehicles/+/status").Length);
        Assert.Equal(500, index.MatchingTopics("#").Length);
        Assert.Empty(index.MatchingTopics("vehicles/+"));

        for (var i = 0; i < 497; i++)
        {
            index.Remove($"vehicles/VIN{i}/status");
        }

        Assert.Equal(["vehicles/VIN497/status", "vehicles/VIN498/status", "vehicles/VIN499/status"], index.MatchingTopics("vehicles/+/status"));
        Assert.True(index.TryGet("vehicles/VIN498/status", out var value));
        Assert.Equal(498, value);
        Assert.Equal(3, index.Count);
        Assert.Equal(1 + (3 * 2), index.NodeCount);
    }

    [Fact]
    public void Topics_with_thousands_of_levels_are_found_without_recursion()
    {
        var index = new TopicNameIndex<int>();
        var deep = string.Join('/', Enumerable.Repeat("x", 20_000));
        index.Set(deep, 1);
        index.Set("x", 2);

        Assert.Equal(["x", deep], index.MatchingTopics("#"));
        Assert.Equal([deep], index.MatchingTopics(string.Join('/', Enumerable.Repeat("+", 20_000))));
        Assert.Equal([deep], index.MatchingTopics(deep));
        Assert.True(index.Remove(deep));
        Assert.Equal(1, index.NodeCount);
    }
}
