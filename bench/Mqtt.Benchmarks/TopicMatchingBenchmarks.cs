using System.Text;
using BenchmarkDotNet.Attributes;
using Platform.Mqtt.Topics;

namespace Platform.Mqtt.Benchmarks;

/// <summary>
/// Matching a PUBLISH topic against the broker's subscription index: one exact subscription per
/// vehicle (<c>vehicles/{vin}/commands</c>) plus a few wildcard and shared subscriptions, the shape
/// of the connected-car fleet. Each call matches the next of 4,096 vehicles' topics, so lookups are
/// spread over the index as in production rather than hitting one hot path. The setup also prints
/// the memory the index retains per subscription.
/// </summary>
[MemoryDiagnoser]
public class TopicMatchingBenchmarks
{
    private const int TopicsCycled = 4096;

    private SubscriptionTree<int> _tree = null!;
    private string[] _commandTopics = null!;
    private string[] _telemetryTopics = null!;
    private byte[][] _utf8CommandTopics = null!;
    private int _next;

    [Params(100_000, 1_000_000)]
    public int Subscriptions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Subscriber ids belong to the broker's sessions; create them before measuring the index.
        var vins = Enumerable.Range(0, Subscriptions).Select(Vin).ToArray();
        var subscriberIds = vins.Select(vin => $"car-{vin}").ToArray();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        _tree = new SubscriptionTree<int>();
        for (var i = 0; i < vins.Length; i++)
        {
            _tree.Add($"vehicles/{vins[i]}/commands", subscriberIds[i], i);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine(
            $"// SubscriptionTree memory: {Subscriptions:N0} subscriptions, {_tree.NodeCount:N0} nodes, " +
            $"{after - before:N0} bytes retained = {(after - before) / (double)Subscriptions:F1} bytes/subscription " +
            "(subscriber id strings excluded: owned by the sessions)");

        _tree.Add("vehicles/+/commands", "command-audit", -1);
        _tree.Add("vehicles/+/telemetry/#", "telemetry-archive", -2);
        _tree.Add("vehicles/#", "recorder", -3);
        _tree.Add("$SYS/#", "ops", -4);
        _tree.Add("+/+/status", "dashboard", -5);
        for (var i = 0; i < 4; i++)
        {
            _tree.Add("$share/ingest/vehicles/+/telemetry/#", $"ingest-{i}", i);
            _tree.Add("$share/dispatch/vehicles/+/commands", $"dispatch-{i}", i);
        }

        var random = new Random(42);
        var sampled = Enumerable.Range(0, TopicsCycled).Select(_ => vins[random.Next(vins.Length)]).ToArray();
        _commandTopics = [.. sampled.Select(vin => $"vehicles/{vin}/commands")];
        _telemetryTopics = [.. sampled.Select(vin => $"vehicles/{vin}/telemetry/battery")];
        _utf8CommandTopics = [.. _commandTopics.Select(Encoding.UTF8.GetBytes)];
    }

    /// <summary>vehicles/{vin}/commands: the vehicle's own subscription, two wildcards and one shared group.</summary>
    [Benchmark(Baseline = true)]
    public int Match_command_topic()
    {
        var visitor = new CountingVisitor();
        _tree.Match(_commandTopics[NextTopic()], ref visitor);
        return visitor.Matches;
    }

    /// <summary>The same topics as UTF-8 bytes from the wire, decoded on the stack.</summary>
    [Benchmark]
    public int Match_command_topic_utf8()
    {
        var visitor = new CountingVisitor();
        _tree.Match(_utf8CommandTopics[NextTopic()], ref visitor);
        return visitor.Matches;
    }

    /// <summary>vehicles/{vin}/telemetry/battery: no exact subscription, wildcards and a shared group match.</summary>
    [Benchmark]
    public int Match_telemetry_topic()
    {
        var visitor = new CountingVisitor();
        _tree.Match(_telemetryTopics[NextTopic()], ref visitor);
        return visitor.Matches;
    }

    /// <summary>Writer path: one vehicle subscribes and unsubscribes (lock, node creation, pruning).</summary>
    [Benchmark]
    public bool Subscribe_and_unsubscribe()
    {
        _tree.Add("vehicles/NEWVIN00000000000/commands", "car-new", 0);
        return _tree.Remove("vehicles/NEWVIN00000000000/commands", "car-new");
    }

    private static string Vin(int index) => $"WVW{index:D14}";

    private int NextTopic() => _next = (_next + 1) & (TopicsCycled - 1);

    private struct CountingVisitor : ISubscriptionVisitor<int>
    {
        public int Matches;

        public void OnSubscriber(string subscriberId, int value) => Matches++;

        public void OnSharedGroup(SharedSubscriptionGroup<int> group) => Matches++;
    }
}
