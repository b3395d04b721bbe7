using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Tests.Topics;

public sealed class SharedSubscriptionTests
{
    [Fact]
    public void Shared_subscription_is_reported_as_its_group_not_per_member()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("$share/workers/vehicles/+/telemetry", "w1", 1);
        tree.Add("$share/workers/vehicles/+/telemetry", "w2", 2);

        var match = tree.Record("vehicles/VIN1/telemetry");

        Assert.Empty(match.Subscribers);
        var group = Assert.Single(match.Groups);
        Assert.Equal("workers", group.ShareName);
        Assert.Equal("vehicles/+/telemetry", group.TopicFilter);
        Assert.Equal([new Subscriber<int>("w1", 1), new Subscriber<int>("w2", 2)], group.Members.ToArray());
        Assert.Equal(2, tree.Count);
    }

    [Fact]
    public void Each_share_name_and_filter_is_its_own_group()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("$share/analytics/vehicles/#", "a1", 1);
        tree.Add("$share/billing/vehicles/#", "b1", 1);
        tree.Add("$share/analytics/vehicles/+/telemetry", "a1", 1);
        tree.Add("vehicles/#", "a1", 1);

        Assert.Equal(
            ["$share/analytics/vehicles/#", "$share/analytics/vehicles/+/telemetry", "$share/billing/vehicles/#"],
            tree.MatchGroups("vehicles/VIN1/telemetry"));
        Assert.Equal(["a1"], tree.MatchSubscribers("vehicles/VIN1/telemetry"));
        Assert.Equal(4, tree.Count);
    }

    [Fact]
    public void Shared_filters_follow_the_dollar_rule()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("$share/ops/#", "o1", 1);
        tree.Add("$share/ops/$SYS/#", "o1", 1);

        Assert.Equal(["$share/ops/$SYS/#"], tree.MatchGroups("$SYS/broker/load"));
    }

    [Fact]
    public void Joining_again_replaces_the_member_value()
    {
        var tree = new SubscriptionTree<string>();

        Assert.True(tree.Add("$share/workers/jobs", "w1", "qos0"));
        Assert.False(tree.Add("$share/workers/jobs", "w1", "qos1"));

        var group = Assert.Single(tree.Record("jobs").Groups);
        Assert.Equal([new Subscriber<string>("w1", "qos1")], group.Members.ToArray());
        Assert.Equal(1, tree.Count);
    }

    [Fact]
    public void Members_leave_and_the_last_one_removes_the_group()
    {
        var tree = new SubscriptionTree<int>();
        tree.Add("$share/workers/jobs/+", "w1", 1);
        tree.Add("$share/workers/jobs/+", "w2", 2);
        var group = Assert.Single(tree.Record("jobs/1").Groups);

        Assert.True(tree.Remove("$share/workers/jobs/+", "w1"));
        Assert.False(tree.Remove("$share/workers/jobs/+", "w1"));
        Assert.False(tree.Remove("jobs/+", "w2"));

        Assert.Equal([new Subscriber<int>("w2", 2)], group.Members.ToArray());
        Assert.Same(group, Assert.Single(tree.Record("jobs/1").Groups));

        Assert.True(tree.Remove("$share/workers/jobs/+", "w2"));

        Assert.Empty(tree.Record("jobs/1").Groups);
        Assert.Equal(0, tree.Count);
        Assert.Equal(0, tree.NodeCount);

        // A group the broker still holds is empty now, and selections say so instead of failing.
        Assert.True(group.Members.IsEmpty);
        Assert.False(group.TrySelectRoundRobin(out _));
        Assert.False(group.TrySelectByHash("VIN1", out _));
    }

    [Fact]
    public void Round_robin_cycles_through_all_members_in_turn()
    {
        var group = CreateGroup("w1", "w2", "w3");

        var picks = Enumerable.Range(0, 9).Select(_ => SelectRoundRobin(group)).ToArray();

        Assert.Equal(["w1", "w2", "w3"], picks[..3].Order(StringComparer.Ordinal));
        Assert.Equal(picks[..3], picks[3..6]);
        Assert.Equal(picks[..3], picks[6..]);
    }

    [Fact]
    public void Round_robin_skips_unavailable_members()
    {
        var group = CreateGroup("w1", "w2", "w3");
        var offline = new HashSet<string> { "w2" };

        var picks = Enumerable.Range(0, 12)
            .Select(_ => group.TrySelectRoundRobin(static (m, down) => !down.Contains(m.SubscriberId), offline, out var member) ? member.SubscriberId : null)
            .ToArray();

        Assert.DoesNotContain("w2", picks);
        Assert.Contains("w1", picks);
        Assert.Contains("w3", picks);
        Assert.False(group.TrySelectRoundRobin(_ => false, out _));
    }

    [Fact]
    public void Hash_selection_is_stable_for_a_key()
    {
        var group = CreateGroup("w1", "w2", "w3", "w4");

        for (var i = 0; i < 100; i++)
        {
            var key = $"VIN{i}";
            var first = SelectByHash(group, key);
            Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(first, SelectByHash(group, key)));
        }
    }

    [Fact]
    public void Hash_selection_does_not_depend_on_join_order()
    {
        var forward = CreateGroup("w1", "w2", "w3", "w4", "w5");
        var backward = CreateGroup("w5", "w4", "w3", "w2", "w1");

        Assert.All(Enumerable.Range(0, 500), i => Assert.Equal(SelectByHash(forward, $"VIN{i}"), SelectByHash(backward, $"VIN{i}")));
    }

    [Fact]
    public void Hash_selection_spreads_keys_over_members()
    {
        var group = CreateGroup("w1", "w2", "w3", "w4");

        var counts = Enumerable.Range(0, 4000).GroupBy(i => SelectByHash(group, $"VIN{i}")).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, count => Assert.InRange(count, 700, 1300));
    }

    [Fact]
    public void A_member_leaving_moves_only_the_keys_it_owned()
    {
        var tree = new SubscriptionTree<int>();
        foreach (var id in new[] { "w1", "w2", "w3", "w4" })
        {
            tree.Add("$share/workers/jobs", id, 0);
        }

        var group = Assert.Single(tree.Record("jobs").Groups);
        var keys = Enumerable.Range(0, 1000).Select(i => $"VIN{i}").ToArray();
        var before = keys.ToDictionary(k => k, k => SelectByHash(group, k));

        tree.Remove("$share/workers/jobs", "w3");

        foreach (var key in keys)
        {
            var after = SelectByHash(group, key);
            if (before[key] == "w3")
            {
                Assert.NotEqual("w3", after);
            }
            else
            {
                Assert.Equal(before[key], after);
            }
        }
    }

    [Fact]
    public void Hash_selection_falls_back_to_the_next_member_when_the_owner_is_unavailable()
    {
        var group = CreateGroup("w1", "w2", "w3");
        var owners = Enumerable.Range(0, 300).Select(i => SelectByHash(group, $"VIN{i}")).ToArray();

        for (var i = 0; i < owners.Length; i++)
        {
            var unavailable = owners[i];
            Assert.True(group.TrySelectByHash($"VIN{i}", m => m.SubscriberId != unavailable, out var fallback));
            Assert.NotEqual(unavailable, fallback.SubscriberId);

            // Keys owned by available members are not disturbed by someone else being unavailable.
            var other = owners[(i + 1) % owners.Length];
            if (other != unavailable)
            {
                Assert.True(group.TrySelectByHash($"VIN{(i + 1) % owners.Length}", m => m.SubscriberId != unavailable, out var kept));
                Assert.Equal(other, kept.SubscriberId);
            }
        }

        Assert.False(group.TrySelectByHash("VIN1", _ => false, out _));
    }

    private static SharedSubscriptionGroup<int> CreateGroup(params string[] members)
    {
        var tree = new SubscriptionTree<int>();
        foreach (var member in members)
        {
            tree.Add("$share/workers/jobs", member, 0);
        }

        return Assert.Single(tree.Record("jobs").Groups);
    }

    private static string SelectRoundRobin(SharedSubscriptionGroup<int> group)
    {
        Assert.True(group.TrySelectRoundRobin(out var member));
        return member.SubscriberId;
    }

    private static string SelectByHash(SharedSubscriptionGroup<int> group, string key)
    {
        Assert.True(group.TrySelectByHash(key, out var member));
        return member.SubscriberId;
    }
}
