using System.Collections.Concurrent;
using System.Text;
using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Tests.Topics;

/// <summary>
/// Readers walk the indexes while writers add and remove entries around a set of stable ones. The
/// churn is shaped to cross every representation switch on the readers' path (child array to map
/// and back, subscriber array to slots and back, wildcard children and groups appearing and
/// disappearing, nodes pruned and recreated). Readers must never fail and must always see the
/// stable entries.
/// </summary>
public sealed class TopicIndexConcurrencyTests
{
    private const int StableVehicles = 32;
    private const int Writers = 2;
    private const int Readers = 2;
    private const int WriterRounds = 400;
    private const int MinimumReads = 2000;

    [Fact]
    public async Task Readers_always_find_stable_subscriptions_while_writers_change_the_tree()
    {
        var tree = new SubscriptionTree<int>();
        for (var i = 0; i < StableVehicles; i++)
        {
            tree.Add($"vehicles/V{i}/commands", $"stable{i}", i);
        }

        tree.Add("vehicles/+/commands", "fleet", -1);
        tree.Add("$share/workers/vehicles/#", "worker", -2);
        var failures = new ConcurrentQueue<string>();
        var writersRunning = Writers;

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            try
            {
                ChurnSubscriptions(tree, w);
            }
            catch (Exception ex)
            {
                failures.Enqueue($"writer {w}: {ex}");
            }
            finally
            {
                Interlocked.Decrement(ref writersRunning);
            }
        }));
        var readers = Enumerable.Range(0, Readers).Select(r => Task.Run(() =>
        {
            var random = new Random(100 + r);
            try
            {
                for (var reads = 0; reads < MinimumReads || Volatile.Read(ref writersRunning) > 0; reads++)
                {
                    var vehicle = random.Next(StableVehicles);
                    var topic = $"vehicles/V{vehicle}/commands";
                    var check = new StableSubscriptionCheck($"stable{vehicle}");
                    if (reads % 2 == 0)
                    {
                        tree.Match(topic, ref check);
                    }
                    else
                    {
                        tree.Match(Encoding.UTF8.GetBytes(topic), ref check);
                    }

                    if (!check.FoundStable || !check.FoundFleet || !check.FoundWorkerGroup)
                    {
                        failures.Enqueue($"reader {r}: {topic} stable={check.FoundStable} fleet={check.FoundFleet} group={check.FoundWorkerGroup}");
                    }
                }
            }
            catch (Exception ex)
            {
                failures.Enqueue($"reader {r}: {ex}");
            }
        }));

        await Task.WhenAll(writers.Concat(readers));

        Assert.Empty(failures);
        Assert.Equal(StableVehicles + 2, tree.Count);
        for (var i = 0; i < StableVehicles; i++)
        {
            Assert.Equal(["fleet", $"stable{i}"], tree.MatchSubscribers($"vehicles/V{i}/commands"));
            tree.Remove($"vehicles/V{i}/commands", $"stable{i}");
        }

        tree.Remove("vehicles/+/commands", "fleet");
        tree.Remove("$share/workers/vehicles/#", "worker");
        Assert.Equal(0, tree.Count);
        Assert.Equal(0, tree.NodeCount);
    }

    [Fact]
    public async Task Readers_always_find_stable_retained_topics_while_writers_change_the_index()
    {
        var index = new TopicNameIndex<int>();
        for (var i = 0; i < StableVehicles; i++)
        {
            index.Set($"vehicles/V{i}/status", i);
        }

        var failures = new ConcurrentQueue<string>();
        var writersRunning = Writers;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            try
            {
                ChurnTopics(index, w);
            }
            catch (Exception ex)
            {
                failures.Enqueue($"writer {w}: {ex}");
            }
            finally
            {
                Interlocked.Decrement(ref writersRunning);
            }
        }));
        var readers = Enumerable.Range(0, Readers).Select(r => Task.Run(() =>
        {
            var random = new Random(200 + r);
            try
            {
                for (var reads = 0; reads < MinimumReads / 10 || Volatile.Read(ref writersRunning) > 0; reads++)
                {
                    var vehicle = random.Next(StableVehicles);
                    if (!index.TryGet($"vehicles/V{vehicle}/status", out var value) || value != vehicle)
                    {
                        failures.Enqueue($"reader {r}: TryGet vehicles/V{vehicle}/status");
                    }

                    var found = new HashSet<string>(StringComparer.Ordinal);
                    index.FindMatching(reads % 2 == 0 ? "vehicles/+/status" : "vehicles/#", (topic, _) => found.Add(topic));
                    var missing = Enumerable.Range(0, StableVehicles).Count(i => !found.Contains($"vehicles/V{i}/status"));
                    if (missing > 0)
                    {
                        failures.Enqueue($"reader {r}: FindMatching missed {missing} stable topics");
                    }
                }
            }
            catch (Exception ex)
            {
                failures.Enqueue($"reader {r}: {ex}");
            }
        }));

        await Task.WhenAll(writers.Concat(readers));

        Assert.Empty(failures);
        Assert.Equal(StableVehicles, index.Count);
        for (var i = 0; i < StableVehicles; i++)
        {
            Assert.True(index.Remove($"vehicles/V{i}/status"));
        }

        Assert.Equal(0, index.NodeCount);
    }

    private static void ChurnSubscriptions(SubscriptionTree<int> tree, int writer)
    {
        var random = new Random(writer);
        var added = new List<string>();
        for (var round = 0; round < WriterRounds; round++)
        {
            var vehicle = random.Next(StableVehicles);
            var id = $"churn{writer}";

            // Siblings of the stable 'commands' level: the VIN node goes single child, array, map and back.
            for (var k = 0; k < TrieNode.MaxArrayChildren + 4; k++)
            {
                added.Add($"vehicles/V{vehicle}/c{k}");
            }

            // Wildcards and shared groups on the readers' path.
            added.Add($"vehicles/V{vehicle}/+");
            added.Add($"vehicles/V{vehicle}/#");
            added.Add("vehicles/#");
            added.Add($"$share/churn{writer}/vehicles/+/commands");

            // New vehicles next to the stable ones, created and pruned.
            added.Add($"vehicles/N{writer}-{round}/commands");
            foreach (var filter in added)
            {
                tree.Add(filter, id, round);
            }

            // Co-subscribers of a stable filter: its subscriber array turns into slots and back.
            for (var k = 0; k < 24; k++)
            {
                tree.Add($"vehicles/V{vehicle}/commands", $"{id}-{k}", k);
            }

            foreach (var filter in added)
            {
                tree.Remove(filter, id);
            }

            for (var k = 0; k < 24; k++)
            {
                tree.Remove($"vehicles/V{vehicle}/commands", $"{id}-{k}");
            }

            added.Clear();
        }
    }

    private static void ChurnTopics(TopicNameIndex<int> index, int writer)
    {
        var random = new Random(writer);
        var added = new List<string>();
        for (var round = 0; round < WriterRounds; round++)
        {
            var vehicle = random.Next(StableVehicles);
            for (var k = 0; k < TrieNode.MaxArrayChildren + 4; k++)
            {
                added.Add($"vehicles/V{vehicle}/x{writer}-{k}");
            }

            added.Add($"vehicles/V{vehicle}/status/detail{writer}");
            added.Add($"vehicles/N{writer}-{round}/status");
            foreach (var topic in added)
            {
                index.Set(topic, round);
            }

            foreach (var topic in added)
            {
                index.Remove(topic);
            }

            added.Clear();
        }
    }

    private struct StableSubscriptionCheck(string stableId) : ISubscriptionVisitor<int>
    {
        public bool FoundStable { get; private set; }

        public bool FoundFleet { get; private set; }

        public bool FoundWorkerGroup { get; private set; }

        public void OnSubscriber(string subscriberId, int value)
        {
            FoundStable |= subscriberId == stableId;
            FoundFleet |= subscriberId == "fleet";
        }

        public void OnSharedGroup(SharedSubscriptionGroup<int> group) =>
            FoundWorkerGroup |= group.ShareName == "workers" && group.Members.Any(m => m.SubscriberId == "worker");
    }
}
