using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Platform.Gateway.Routing;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Telemetry;

/// <summary>Why the broker did not deliver a message (the <c>reason</c> tag of gateway.messages.dropped).</summary>
public enum DropReason
{
    QueueFull,
    Offline,
    Expired,
    PacketTooLarge,
    NotAuthorized,
    RateLimited,
    SlowConsumer,
    NoSubscribers,
}

/// <summary>Packet counters indexed by packet type (0-15).</summary>
[InlineArray(16)]
public struct PacketCounts
{
    private long _element;
}

/// <summary>
/// Counters of one connection. Only its own loops write them (plain increments, no interlocked
/// operations on the hot path); the meter reads them when it collects, so a read may be a few
/// increments behind, which is fine for metrics.
/// </summary>
public sealed class ConnectionStats
{
    public PacketCounts PacketsReceived;
    public PacketCounts PacketsSent;
    public long BytesReceived;
    public long BytesSent;
    public long PublishesReceived0;
    public long PublishesReceived1;
    public long PublishesReceived2;
    public long PublishesSent0;
    public long PublishesSent1;
    public long PublishesSent2;

    public void CountPublishReceived(QualityOfService qos)
    {
        switch (qos)
        {
            case QualityOfService.AtMostOnce: PublishesReceived0++; break;
            case QualityOfService.AtLeastOnce: PublishesReceived1++; break;
            default: PublishesReceived2++; break;
        }
    }

    public void CountPublishSent(QualityOfService qos)
    {
        switch (qos)
        {
            case QualityOfService.AtMostOnce: PublishesSent0++; break;
            case QualityOfService.AtLeastOnce: PublishesSent1++; break;
            default: PublishesSent2++; break;
        }
    }

    public void AddTo(ConnectionStats total)
    {
        for (var i = 0; i < 16; i++)
        {
            total.PacketsReceived[i] += PacketsReceived[i];
            total.PacketsSent[i] += PacketsSent[i];
        }

        total.BytesReceived += BytesReceived;
        total.BytesSent += BytesSent;
        total.PublishesReceived0 += PublishesReceived0;
        total.PublishesReceived1 += PublishesReceived1;
        total.PublishesReceived2 += PublishesReceived2;
        total.PublishesSent0 += PublishesSent0;
        total.PublishesSent1 += PublishesSent1;
        total.PublishesSent2 += PublishesSent2;
    }
}

/// <summary>
/// The gateway's ActivitySource and Meter (both named <c>Platform.Gateway</c>, so ServiceDefaults
/// collects them). Per-message counts come from <see cref="ConnectionStats"/> through observable
/// instruments; drops and latency use regular instruments.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "Platform.Gateway";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _dropped;
    private readonly Histogram<double> _deliveryLatency;
    private readonly Lock _closedGate = new();
    private readonly ConnectionStats _closedConnections = new();
    private readonly long[] _dropCounts = new long[Enum.GetValues<DropReason>().Length];

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        _dropped = _meter.CreateCounter<long>("gateway.messages.dropped", "{message}", "Messages not delivered, by reason");
        _deliveryLatency = _meter.CreateHistogram<double>("gateway.delivery.duration", "ms",
            "Time from receiving a PUBLISH to writing it to a subscriber's connection (sampled 1 in 16)");
    }

    /// <summary>Registers the instruments that read the broker's state (the broker calls this once it exists).</summary>
    public void Observe(MqttBroker state)
    {
        _meter.CreateObservableUpDownCounter("gateway.connections", () => (long)state.ConnectionCount, "{connection}", "Open MQTT connections");
        _meter.CreateObservableUpDownCounter("gateway.sessions", () => (long)state.Sessions.Store.Count, "{session}", "Sessions, connected or not");
        _meter.CreateObservableUpDownCounter("gateway.subscriptions", () => (long)state.Subscriptions.Count, "{subscription}", "Subscriptions in the index");
        _meter.CreateObservableUpDownCounter("gateway.retained.messages", () => (long)state.Retained.Count, "{message}", "Retained messages");
        _meter.CreateObservableUpDownCounter("gateway.queue.depth", () => state.QueuedMessages(), "{message}", "Messages waiting in session queues");
        _meter.CreateObservableCounter("gateway.packets.received", () => PacketMeasurements(state, sent: false), "{packet}", "MQTT packets received, by type");
        _meter.CreateObservableCounter("gateway.packets.sent", () => PacketMeasurements(state, sent: true), "{packet}", "MQTT packets sent, by type");
        _meter.CreateObservableCounter("gateway.publish.received", () => PublishMeasurements(state, sent: false), "{message}", "PUBLISH received, by QoS");
        _meter.CreateObservableCounter("gateway.publish.sent", () => PublishMeasurements(state, sent: true), "{message}", "PUBLISH sent, by QoS");
        _meter.CreateObservableCounter("gateway.bytes.received", () => Totals(state).BytesReceived, "By", "Bytes received on MQTT connections");
        _meter.CreateObservableCounter("gateway.bytes.sent", () => Totals(state).BytesSent, "By", "Bytes sent on MQTT connections");
    }

    public bool DeliveryLatencyEnabled => _deliveryLatency.Enabled;

    public void RecordDrop(DropReason reason, int count = 1)
    {
        Interlocked.Add(ref _dropCounts[(int)reason], count);
        if (_dropped.Enabled)
        {
            _dropped.Add(count, new KeyValuePair<string, object?>("reason", ReasonTag(reason)));
        }
    }

    public long DropCount(DropReason reason) => Interlocked.Read(ref _dropCounts[(int)reason]);

    public void RecordDeliveryLatency(long receivedTimestamp) =>
        _deliveryLatency.Record(Stopwatch.GetElapsedTime(receivedTimestamp).TotalMilliseconds);

    /// <summary>Folds a closing connection's counters into the totals so they are not lost.</summary>
    public void OnConnectionClosed(ConnectionStats stats)
    {
        lock (_closedGate)
        {
            stats.AddTo(_closedConnections);
        }
    }

    /// <summary>Totals over open and closed connections.</summary>
    public ConnectionStats Totals(MqttBroker state)
    {
        var total = new ConnectionStats();
        lock (_closedGate)
        {
            _closedConnections.AddTo(total);
        }

        foreach (var connection in state.Connections)
        {
            connection.Stats.AddTo(total);
        }

        return total;
    }

    private IEnumerable<Measurement<long>> PacketMeasurements(MqttBroker state, bool sent)
    {
        var totals = Totals(state);
        for (var type = 1; type <= 15; type++)
        {
            var value = sent ? totals.PacketsSent[type] : totals.PacketsReceived[type];
            yield return new Measurement<long>(value, new KeyValuePair<string, object?>("mqtt.packet.type", ((PacketType)type).ToString().ToUpperInvariant()));
        }
    }

    private IEnumerable<Measurement<long>> PublishMeasurements(MqttBroker state, bool sent)
    {
        var totals = Totals(state);
        yield return new Measurement<long>(sent ? totals.PublishesSent0 : totals.PublishesReceived0, new KeyValuePair<string, object?>("mqtt.qos", 0));
        yield return new Measurement<long>(sent ? totals.PublishesSent1 : totals.PublishesReceived1, new KeyValuePair<string, object?>("mqtt.qos", 1));
        yield return new Measurement<long>(sent ? totals.PublishesSent2 : totals.PublishesReceived2, new KeyValuePair<string, object?>("mqtt.qos", 2));
    }

    private static string ReasonTag(DropReason reason) => reason switch
    {
        DropReason.QueueFull => "queue_full",
        DropReason.Offline => "offline",
        DropReason.Expired => "expired",
        DropReason.PacketTooLarge => "packet_too_large",
        DropReason.NotAuthorized => "not_authorized",
        DropReason.RateLimited => "rate_limited",
        DropReason.SlowConsumer => "slow_consumer",
        _ => "no_subscribers",
    };

    public void Dispose() => _meter.Dispose();
}
