using System.Text;
using Platform.Mqtt.Protocol;
using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Tests.Topics;

public sealed class SubscriptionTreeTests
{
    // 4.7.1.2 Multi-level wildcard.
    [Theory]
    [InlineData("sport/tennis/player1")]
    [InlineData("sport/tennis/player1/ranking")]
    [InlineData("sport/tennis/player1/score/wimbledon")]
    public void Multi_level_wildcard_matches_the_parent_and_every_level_below(string topic)
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("sport/tennis/player1/#", "fan", 1);

        Assert.Equal(["fan"], tree.MatchSubscribers(topic));
    }

    [Theory]
    [InlineData("sport/tennis/player2")]
    [InlineData("sport/tennis")]
    [InlineData("sport/tennis/player10")]
    public void Multi_level_wildcard_does_not_match_other_branches(string topic)
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("sport/tennis/player1/#", "fan", 1);

        Assert.Empty(tree.MatchSubscribers(topic));
    }

    [Fact]
    public void Sport_hash_matches_sport_itself()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("sport/#", "fan", 1);

        Assert.Equal(["fan"], tree.MatchSubscribers("sport"));
        Assert.Equal(["fan"], tree.MatchSubscribers("sport/"));
        Assert.Empty(tree.MatchSubscribers("sports"));
    }

    [Theory]
    [InlineData("sport")]
    [InlineData("/")]
    [InlineData("a/b/c/d")]
    public void Hash_alone_matches_every_topic(string topic)
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("#", "all", 1);

        Assert.Equal(["all"], tree.MatchSubscribers(topic));
    }

    // 4.7.1.3 Single-level wildcard.
    [Fact]
    public void Single_level_wildcard_matches_exactly_one_level()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("sport/tennis/+", "fan", 1);

        Assert.Equal(["fan"], tree.MatchSubscribers("sport/tennis/player1"));
        Assert.Equal(["fan"], tree.MatchSubscribers("sport/tennis/player2"));
        Assert.Empty(tree.MatchSubscribers("sport/tennis/player1/ranking"));
        Assert.Empty(tree.MatchSubscribers("sport/tennis"));
    }

    [Fact]
    public void Sport_plus_does_not_match_sport_but_matches_sport_slash()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("sport/+", "fan", 1);

        Assert.Empty(tree.MatchSubscribers("sport"));
        Assert.Equal(["fan"], tree.MatchSubscribers("sport/"));
    }

    [Fact]
    public void Plus_plus_and_slash_plus_match_slash_finance_but_plus_does_not()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("+/+", "plus-plus", 1);
        tree.Add("/+", "slash-plus", 2);
        tree.Add("+", "plus", 3);

        Assert.Equal(["plus-plus", "slash-plus"], tree.MatchSubscribers("/finance"));
        Assert.Equal(["plus"], tree.MatchSubscribers("finance"));
    }

    [Fact]
    public void Wildcards_combine_within_one_filter()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("+/tennis/#", "a", 1);
        tree.Add("sport/+/player1", "b", 2);

        Assert.Equal(["a", "b"], tree.MatchSubscribers("sport/tennis/player1"));
        Assert.Equal(["a"], tree.MatchSubscribers("chess/tennis"));
        Assert.Equal(["b"], tree.MatchSubscribers("sport/golf/player1"));
    }

    // 4.7.2 Topics beginning with $.
    [Theory]
    [InlineData("#")]
    [InlineData("+/monitor/Clients")]
    [InlineData("+/#")]
    [InlineData("+/+/+")]
    public void Leading_wildcard_does_not_match_dollar_topics(string filter)
    {
        var tree = new SubscriptionTree<int>();
        tree.Add(filter, "wild", 1);

        Assert.Empty(tree.MatchSubscribers("$SYS/monitor/Clients"));
    }

    [Theory]
    [InlineData("$SYS/#")]
    [InlineData("$SYS/monitor/+")]
    [InlineData("$SYS/+/Clients")]
    [InlineData("$SYS/monitor/Clients")]
    public void Filters_naming_the_dollar_level_match_dollar_topics(string filter)
    {
        var tree = new SubscriptionTree<int>();
        tree.Add(filter, "sys", 1);

        Assert.Equal(["sys"], tree.MatchSubscribers("$SYS/monitor/Clients"));
    }

    [Fact]
    public void Dollar_rule_applies_only_to_the_first_level()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("vehicles/+", "plus", 1);
        tree.Add("vehicles/#", "hash", 2);

        Assert.Equal(["hash", "plus"], tree.MatchSubscribers("vehicles/$state"));
    }

    // 4.7.3 Topic semantic and usage.
    [Fact]
    public void Levels_are_case_sensitive_and_leading_slash_is_a_distinct_topic()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("ACCOUNTS", "upper", 1);
        tree.Add("Accounts payable", "spaced", 2);
        tree.Add("/finance", "rooted", 3);
        tree.Add("/", "slash", 4);

        Assert.Equal(["upper"], tree.MatchSubscribers("ACCOUNTS"));
        Assert.Empty(tree.MatchSubscribers("Accounts"));
        Assert.Equal(["spaced"], tree.MatchSubscribers("Accounts payable"));
        Assert.Empty(tree.MatchSubscribers("finance"));
        Assert.Equal(["rooted"], tree.MatchSubscribers("/finance"));
        Assert.Equal(["slash"], tree.MatchSubscribers("/"));
    }

    [Fact]
    public void Empty_levels_are_levels()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("a//b", "empty-middle", 1);
        tree.Add("a/+/b", "plus-middle", 2);

        Assert.Equal(["empty-middle", "plus-middle"], tree.MatchSubscribers("a//b"));
        Assert.Equal(["plus-middle"], tree.MatchSubscribers("a/x/b"));
        Assert.Empty(tree.MatchSubscribers("a/b"));
    }

    [Theory]
    [InlineData("sport/tennis#", "MQTT-4.7.1-1")]
    [InlineData("sport/tennis/#/ranking", "MQTT-4.7.1-1")]
    [InlineData("sport+", "MQTT-4.7.1-2")]
    [InlineData("", "MQTT-4.7.3-1")]
    [InlineData("$share//jobs", "MQTT-4.8.2-1")]
    [InlineData("$share/gr+oup/jobs", "MQTT-4.8.2-2")]
    [InlineData("$share/group", "MQTT-4.8.2-2")]
    [InlineData("$share/group/jobs#", "MQTT-4.7.1-1")]
    public void Invalid_filters_are_rejected_with_the_validation_error(string filter, string statement)
    {
        var tree = new SubscriptionTree<int>();

        var error = Assert.Throws<MqttProtocolException>(() => tree.Add(filter, "s", 1));
        Assert.Equal(ReasonCode.TopicFilterInvalid, error.ReasonCode);
        Assert.Equal(statement, error.Statement);
        Assert.Equal(0, tree.Count);
        Assert.Equal(0, tree.NodeCount);
    }

    [Fact]
    public void Overlapping_filters_report_a_subscriber_once_per_filter()
    {
        var tree = new SubscriptionTree<string>();
        tree.Add("vehicles/VIN1/commands", "app", "exact");
        tree.Add("vehicles/+/commands", "app", "plus");
        tree.Add("vehicles/#", "app", "hash");
        tree.Add("#", "app", "all");
        tree.Add("vehicles/+/telemetry", "app", "other");

        var matched = tree.Record("vehicles/VIN1/commands").Subscribers;

        Assert.Equal(["all", "exact", "hash", "plus"], matched.Select(m => m.Value).Order(StringComparer.Ordinal));
        Assert.All(matched, m => Assert.Equal("app", m.SubscriberId));
    }

    [Fact]
    public void Subscribing_again_to_the_same_filter_replaces_the_value()
    {
        var tree = new SubscriptionTree<string>();

        Assert.True(tree.Add("vehicles/+/commands", "app", "qos0"));
        Assert.False(tree.Add("vehicles/+/commands", "app", "qos1"));

        Assert.Equal(1, tree.Count);
        Assert.Equal([("app", "qos1")], tree.Record("vehicles/V/commands").Subscribers);
    }

    [Fact]
    public void Different_subscribers_of_one_filter_are_separate_subscriptions()
    {
        var tree = new SubscriptionTree<int>();

        Assert.True(tree.Add("fleet/broadcast", "car1", 1));
        Assert.True(tree.Add("fleet/broadcast", "car2", 2));

        Assert.Equal(2, tree.Count);
        Assert.Equal(["car1", "car2"], tree.MatchSubscribers("fleet/broadcast"));
    }

    [Fact]
    public void Removing_returns_false_for_unknown_subscriptions()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("a/b", "s1", 1);

        Assert.False(tree.Remove("a/b", "s2"));
        Assert.False(tree.Remove("a/c", "s1"));
        Assert.False(tree.Remove("a/+", "s1"));
        Assert.False(tree.Remove("a", "s1"));
        Assert.False(tree.Remove("$share/g/a/b", "s1"));
        Assert.Equal(1, tree.Count);
        Assert.True(tree.Remove("a/b", "s1"));
        Assert.False(tree.Remove("a/b", "s1"));
    }

    [Fact]
    public void Removing_everything_prunes_every_node()
    {
        var tree = new SubscriptionTree<int>();
        string[] filters =
        [
            "vehicles/VIN1/commands", "vehicles/VIN2/commands", "vehicles/+/commands", "vehicles/#", "#", "+",
            "+/+", "/+", "a//b", "/", "$SYS/#", "$share/workers/vehicles/+/telemetry", "$share/other/vehicles/+/telemetry",
        ];
        foreach (var filter in filters)
        {
            tree.Add(filter, "s1", 1);
            tree.Add(filter, "s2", 2);
        }

        Assert.Equal(2 * filters.Length, tree.Count);
        Assert.True(tree.NodeCount > 0);

        foreach (var filter in filters.Reverse())
        {
            Assert.True(tree.Remove(filter, "s1"));
            Assert.True(tree.Remove(filter, "s2"));
        }

        Assert.Equal(0, tree.Count);
        Assert.Equal(0, tree.NodeCount);
        Assert.Empty(tree.MatchSubscribers("vehicles/VIN1/commands"));
        Assert.Empty(tree.MatchGroups("vehicles/VIN1/telemetry"));
    }

    [Fact]
    public void Pruning_keeps_nodes_still_in_use()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("a/b", "s", 1);
        tree.Add("a/b/c/d", "s", 2);

        tree.Remove("a/b/c/d", "s");

        Assert.Equal(2, tree.NodeCount);
        Assert.Equal(["s"], tree.MatchSubscribers("a/b"));

        tree.Add("a/b/c/d", "s", 2);
        tree.Remove("a/b", "s");

        Assert.Equal(4, tree.NodeCount);
        Assert.Equal(["s"], tree.MatchSubscribers("a/b/c/d"));
        Assert.Empty(tree.MatchSubscribers("a/b"));
    }

    [Fact]
    public void Many_siblings_are_found_as_they_grow_and_shrink()
    {
        // Crosses the switch from a child array to a child map and back.
        var tree = new SubscriptionTree<int>();
        for (var i = 0; i < 200; i++)
        {
            tree.Add($"vehicles/VIN{i}/commands", $"car{i}", i);
        }

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal([$"car{i}"], tree.MatchSubscribers($"vehicles/VIN{i}/commands"));
        }

        for (var i = 0; i < 197; i++)
        {
            tree.Remove($"vehicles/VIN{i}/commands", $"car{i}");
        }

        Assert.Empty(tree.MatchSubscribers("vehicles/VIN0/commands"));
        for (var i = 197; i < 200; i++)
        {
            Assert.Equal([$"car{i}"], tree.MatchSubscribers($"vehicles/VIN{i}/commands"));
        }

        Assert.Equal(1 + (3 * 2), tree.NodeCount);
    }

    [Fact]
    public void Many_subscribers_of_one_filter_are_all_reported_as_they_grow_and_shrink()
    {
        // Crosses the switch from an immutable subscriber array to slots and back.
        var tree = new SubscriptionTree<int>();
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(tree.Add("fleet/broadcast", $"car{i}", i));
        }

        Assert.False(tree.Add("fleet/broadcast", "car500", -500));
        var all = tree.Record("fleet/broadcast").Subscribers;
        Assert.Equal(1000, all.Count);
        Assert.Equal(1000, all.Select(s => s.SubscriberId).Distinct().Count());
        Assert.Contains(("car500", -500), all);

        for (var i = 0; i < 995; i++)
        {
            Assert.True(tree.Remove("fleet/broadcast", $"car{i}"));
        }

        Assert.Equal(["car995", "car996", "car997", "car998", "car999"], tree.MatchSubscribers("fleet/broadcast"));

        tree.Add("fleet/broadcast", "car0", 0);
        Assert.Equal(6, tree.Record("fleet/broadcast").Subscribers.Count);

        foreach (var id in new[] { "car0", "car995", "car996", "car997", "car998", "car999" })
        {
            Assert.True(tree.Remove("fleet/broadcast", id));
        }

        Assert.Equal(0, tree.NodeCount);
    }

    [Fact]
    public void Subscriber_slots_compact_after_many_removals_without_losing_anyone()
    {
        var tree = new SubscriptionTree<int>();
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 300; i++)
            {
                tree.Add("fleet/broadcast", $"r{round}-car{i}", i);
            }

            for (var i = 0; i < 290; i++)
            {
                tree.Remove("fleet/broadcast", $"r{round}-car{i}");
            }
        }

        var expected = Enumerable.Range(0, 5).SelectMany(r => Enumerable.Range(290, 10).Select(i => $"r{r}-car{i}"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), tree.MatchSubscribers("fleet/broadcast"));
        Assert.Equal(50, tree.Count);
    }

    [Fact]
    public void Utf8_topics_match_like_their_decoded_form()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("fahrzeuge/+/zustände", "de", 1);
        tree.Add("fahrzeuge/#", "all", 2);
        var recorder = new MatchRecorder<int>();

        tree.Match("fahrzeuge/WÄGEN🚗/zustände"u8, ref recorder);

        Assert.Equal(["all", "de"], recorder.Subscribers.Select(s => s.SubscriberId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Utf8_topics_longer_than_the_stack_buffer_are_matched()
    {
        var tree = new SubscriptionTree<int>();
        var longLevel = new string('x', 5000);
        tree.Add($"long/{longLevel}", "exact", 1);
        tree.Add("long/+", "plus", 2);
        var recorder = new MatchRecorder<int>();

        tree.Match(Encoding.UTF8.GetBytes($"long/{longLevel}"), ref recorder);

        Assert.Equal(["exact", "plus"], recorder.Subscribers.Select(s => s.SubscriberId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Malformed_utf8_topics_are_rejected()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("#", "all", 1);

        Assert.Throws<ArgumentException>(() =>
        {
            var recorder = new MatchRecorder<int>();
            tree.Match([(byte)'a', 0xC3, 0x28], ref recorder);
        });
    }

    [Fact]
    public void Topics_with_many_forking_levels_are_matched_without_recursion()
    {
        // Every level of the exact path also has a '+' branch, so the walk forks at each of the 60
        // levels: more pending forks than fit the inline buffer.
        var tree = new SubscriptionTree<int>();
        const int Depth = 60;
        var topic = string.Join('/', Enumerable.Range(0, Depth).Select(i => $"l{i}"));
        tree.Add(topic, "exact", -1);
        var filters = new List<string> { topic };
        for (var k = 0; k < Depth; k++)
        {
            var filter = string.Join('/', Enumerable.Range(0, Depth).Select(i => i == k ? "+" : $"l{i}"));
            tree.Add(filter, $"plus{k}", k);
            filters.Add(filter);
        }

        var matched = tree.Record(topic).Subscribers;

        Assert.Equal(Depth + 1, matched.Count);
        Assert.All(filters, f => Assert.True(TopicFilter.Matches(f, topic)));
    }

    [Fact]
    public void Topics_with_thousands_of_levels_are_matched()
    {
        var tree = new SubscriptionTree<int>();
        var deepTopic = new string('/', 30_000);
        tree.Add("#", "all", 1);
        tree.Add("/#", "slash", 2);
        tree.Add(deepTopic, "exact", 3);
        tree.Add(deepTopic + "+", "plus-last", 4);

        Assert.Equal(["all", "exact", "plus-last", "slash"], tree.MatchSubscribers(deepTopic));
        Assert.True(tree.Remove(deepTopic, "exact"));
        Assert.True(tree.Remove(deepTopic + "+", "plus-last"));

        // Left: the root's '#' child, and the empty first level with its '#' child.
        Assert.Equal(3, tree.NodeCount);
    }

    [Fact]
    public void Matching_does_not_allocate()
    {
        var tree = new SubscriptionTree<int>();
        for (var i = 0; i < 100; i++)
        {
            tree.Add($"vehicles/VIN{i}/commands", $"car{i}", i);
        }

        tree.Add("vehicles/+/commands", "fleet", 1);
        tree.Add("vehicles/#", "audit", 2);
        tree.Add("$share/workers/vehicles/+/commands", "worker", 3);
        var counter = new CountingVisitor();
        var utf8Topic = "vehicles/VIN42/commands"u8.ToArray();
        tree.Match("vehicles/VIN42/commands", ref counter);
        tree.Match(utf8Topic, ref counter);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            tree.Match("vehicles/VIN42/commands", ref counter);
            tree.Match(utf8Topic, ref counter);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(202 * 3, counter.Subscribers);
        Assert.Equal(202, counter.Groups);
    }

    private struct CountingVisitor : ISubscriptionVisitor<int>
    {
        public int Subscribers;
        public int Groups;

        public void OnSubscriber(string subscriberId, int value) => Subscribers++;

        public void OnSharedGroup(SharedSubscriptionGroup<int> group) => Groups++;
    }
}
