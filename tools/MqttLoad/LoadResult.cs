using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Platform.MqttLoad;

/// <summary>The outcome of one run: printed as a short summary and as one JSON line.</summary>
public sealed class LoadResult
{
    public string Scenario { get; init; } = "";
    public string Label { get; init; } = "";
    public string Version { get; init; } = "";
    public int QoS { get; init; }
    public int PayloadSize { get; init; }
    public int Publishers { get; init; }
    public int Subscribers { get; init; }
    public string? SharedGroup { get; init; }
    public int Rate { get; init; }
    public double DurationSeconds { get; set; }
    public long Sent { get; set; }
    public long Received { get; set; }
    public double SentPerSecond { get; set; }
    public double ReceivedPerSecond { get; set; }
    public long Lost { get; set; }
    public long Duplicates { get; set; }
    /// <summary>Out-of-order arrivals per publisher stream; null for shared subscriptions, where each member sees only every n-th message.</summary>
    public long? Gaps { get; set; }
    public double LatencyP50Ms { get; set; }
    public double LatencyP90Ms { get; set; }
    public double LatencyP99Ms { get; set; }
    public double LatencyMaxMs { get; set; }
    public double ToolCores { get; set; }
    public double? BrokerCores { get; set; }
    public long? BrokerRssStartBytes { get; set; }
    public long? BrokerRssEndBytes { get; set; }
    public long? BrokerRssMaxBytes { get; set; }
    public long Connections { get; set; }
    public double ConnectionsPerSecond { get; set; }
    public double? BrokerBytesPerConnection { get; set; }
    public long Errors { get; set; }

    public void SetLatency(LatencyHistogram histogram)
    {
        LatencyP50Ms = histogram.Percentile(50) / 1000.0;
        LatencyP90Ms = histogram.Percentile(90) / 1000.0;
        LatencyP99Ms = histogram.Percentile(99) / 1000.0;
        LatencyMaxMs = histogram.MaxMicroseconds / 1000.0;
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("scenario", Scenario);
            json.WriteString("label", Label);
            json.WriteString("version", Version);
            json.WriteNumber("qos", QoS);
            json.WriteNumber("payloadSize", PayloadSize);
            json.WriteNumber("publishers", Publishers);
            json.WriteNumber("subscribers", Subscribers);
            if (SharedGroup is not null)
            {
                json.WriteString("sharedGroup", SharedGroup);
            }

            json.WriteNumber("rate", Rate);
            json.WriteNumber("durationSeconds", Math.Round(DurationSeconds, 3));
            json.WriteNumber("sent", Sent);
            json.WriteNumber("received", Received);
            json.WriteNumber("sentPerSecond", Math.Round(SentPerSecond));
            json.WriteNumber("receivedPerSecond", Math.Round(ReceivedPerSecond));
            json.WriteNumber("lost", Lost);
            json.WriteNumber("duplicates", Duplicates);
            WriteOptional(json, "gaps", Gaps);
            json.WriteNumber("latencyP50Ms", Math.Round(LatencyP50Ms, 3));
            json.WriteNumber("latencyP90Ms", Math.Round(LatencyP90Ms, 3));
            json.WriteNumber("latencyP99Ms", Math.Round(LatencyP99Ms, 3));
            json.WriteNumber("latencyMaxMs", Math.Round(LatencyMaxMs, 3));
            json.WriteNumber("toolCores", Math.Round(ToolCores, 3));
            WriteOptional(json, "brokerCores", BrokerCores is { } cores ? Math.Round(cores, 3) : null);
            WriteOptional(json, "brokerRssStartBytes", BrokerRssStartBytes);
            WriteOptional(json, "brokerRssEndBytes", BrokerRssEndBytes);
            WriteOptional(json, "brokerRssMaxBytes", BrokerRssMaxBytes);
            json.WriteNumber("connections", Connections);
            json.WriteNumber("connectionsPerSecond", Math.Round(ConnectionsPerSecond));
            WriteOptional(json, "brokerBytesPerConnection", BrokerBytesPerConnection is { } b ? Math.Round(b) : null);
            json.WriteNumber("errors", Errors);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    public string Summary()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"{Scenario} {Label}: ");
        if (Scenario is "conn")
        {
            text.Append(c, $"{Connections:N0} connections at {ConnectionsPerSecond:N0}/s");
            if (BrokerBytesPerConnection is { } perConnection)
            {
                text.Append(c, $", broker {perConnection / 1024:N2} KB per connection");
            }
        }
        else if (Scenario is "connrate")
        {
            text.Append(c, $"{ConnectionsPerSecond:N0} CONNECT/s ({Connections:N0} cycles)");
        }
        else
        {
            text.Append(c, $"sent {SentPerSecond:N0}/s, received {ReceivedPerSecond:N0}/s, lost {Lost:N0}, dup {Duplicates:N0}, gaps {(Gaps is { } gaps ? gaps.ToString("N0", c) : "n/a")}, ");
            text.Append(c, $"latency p50 {LatencyP50Ms:N3} p90 {LatencyP90Ms:N3} p99 {LatencyP99Ms:N3} max {LatencyMaxMs:N3} ms");
        }

        text.Append(c, $"; tool {ToolCores:N2} cores");
        if (BrokerCores is { } broker)
        {
            text.Append(c, $", broker {broker:N2} cores, RSS {BrokerRssMaxBytes / 1048576.0:N1} MB max");
        }

        if (Errors > 0)
        {
            text.Append(c, $", {Errors} errors");
        }

        return text.ToString();
    }
}
