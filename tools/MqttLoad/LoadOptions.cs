using System.Globalization;
using System.Net;
using Platform.Mqtt.Protocol;

namespace Platform.MqttLoad;

/// <summary>Command-line options, named after emqtt-bench's where they overlap.</summary>
public sealed class LoadOptions
{
    public string Scenario { get; private set; } = "fanin";

    public string Host { get; private set; } = "127.0.0.1";

    public int Port { get; private set; } = 1883;

    public MqttProtocolVersion Version { get; private set; } = MqttProtocolVersion.V311;

    public int Publishers { get; private set; } = 100;

    public int Subscribers { get; private set; } = 1;

    /// <summary>When set, subscribers join one shared subscription group of this name.</summary>
    public string? SharedGroup { get; private set; }

    public QualityOfService QoS { get; private set; }

    public int PayloadSize { get; private set; } = 100;

    /// <summary>Total messages per second over all publishers; 0 = as fast as the window allows.</summary>
    public int Rate { get; private set; }

    public double DurationSeconds { get; private set; } = 10;

    public double WarmupSeconds { get; private set; } = 1;

    /// <summary>Messages sent but not yet received, over all publishers (bounds "as fast as possible" runs).</summary>
    public int Window { get; private set; } = 2000;

    /// <summary>Unacknowledged QoS 1 messages per publisher.</summary>
    public int PublisherInflight { get; private set; } = 100;

    public int Count { get; private set; } = 1000;

    public int ConnectRate { get; private set; } = 1000;

    public int Concurrency { get; private set; } = 200;

    public double HoldSeconds { get; private set; } = 5;

    public IReadOnlyList<IPAddress> SourceAddresses { get; private set; } = [];

    public int? BrokerPid { get; private set; }

    public string Topic { get; private set; } = "load/{p}/telemetry";

    public string Label { get; private set; } = "";

    public bool Quiet { get; private set; }

    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        var i = 0;
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            options.Scenario = args[0];
            i = 1;
        }

        for (; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            double Double() => double.Parse(Value(), CultureInfo.InvariantCulture);
            switch (name)
            {
                case "-h" or "--host": options.Host = Value(); break;
                case "-p" or "--port": options.Port = Int(); break;
                case "-V" or "--version":
                    options.Version = Value() switch
                    {
                        "5" or "5.0" => MqttProtocolVersion.V500,
                        "3.1.1" or "4" => MqttProtocolVersion.V311,
                        var v => throw new ArgumentException($"unknown MQTT version {v}"),
                    };
                    break;
                case "-P" or "--publishers": options.Publishers = Int(); break;
                case "-S" or "--subscribers": options.Subscribers = Int(); break;
                case "--shared": options.SharedGroup = Value(); break;
                case "-q" or "--qos": options.QoS = (QualityOfService)Int(); break;
                case "-s" or "--size": options.PayloadSize = Math.Max(Int(), FanPayload.HeaderSize); break;
                case "-r" or "--rate": options.Rate = Int(); break;
                case "-d" or "--duration": options.DurationSeconds = Double(); break;
                case "--warmup": options.WarmupSeconds = Double(); break;
                case "--window": options.Window = Int(); break;
                case "--pub-inflight": options.PublisherInflight = Int(); break;
                case "-c" or "--count": options.Count = Int(); break;
                case "--connect-rate": options.ConnectRate = Int(); break;
                case "--concurrency": options.Concurrency = Int(); break;
                case "--hold": options.HoldSeconds = Double(); break;
                case "--source-ips": options.SourceAddresses = ParseAddressRange(Value()); break;
                case "--broker-pid": options.BrokerPid = Int(); break;
                case "-t" or "--topic": options.Topic = Value(); break;
                case "--label": options.Label = Value(); break;
                case "--quiet": options.Quiet = true; break;
                default: throw new ArgumentException($"unknown option {name}");
            }
        }

        return options;
    }

    /// <summary>"127.0.0.2-127.0.0.254": each source address holds up to ~28k ephemeral ports.</summary>
    private static List<IPAddress> ParseAddressRange(string text)
    {
        var parts = text.Split('-');
        var first = IPAddress.Parse(parts[0]).GetAddressBytes();
        if (parts.Length == 1)
        {
            return [new IPAddress(first)];
        }

        var last = IPAddress.Parse(parts[1]).GetAddressBytes();
        var result = new List<IPAddress>();
        for (var b = first[3]; b <= last[3]; b++)
        {
            result.Add(new IPAddress([first[0], first[1], first[2], b]));
            if (b == byte.MaxValue)
            {
                break;
            }
        }

        return result;
    }

    public const string Usage = """
        mqtt-load <scenario> [options]

        Scenarios:
          fanin     P publishers -> S subscribers (default 100 -> 1; --shared G puts subscribers in $share/G)
          fanout    1 publisher -> S subscribers (use -P 1 -S 100)
          conn      open --count idle connections at --connect-rate, hold them --hold seconds
          connrate  CONNECT/CONNACK/DISCONNECT cycles with --concurrency in flight for --duration

        Options:
          -h/--host 127.0.0.1   -p/--port 1883   -V/--version 3.1.1|5
          -P/--publishers N     -S/--subscribers N   --shared GROUP
          -q/--qos 0|1|2        -s/--size BYTES (>= 14)   -r/--rate MSG_PER_S (0 = as fast as possible)
          -d/--duration S       --warmup S         --window N (messages in flight, as-fast-as-possible runs)
          --pub-inflight N      unacknowledged QoS 1 per publisher
          -c/--count N --connect-rate N --hold S --source-ips 127.0.0.2-127.0.0.254
          --concurrency N       --broker-pid PID (report broker CPU and RSS)   --label TEXT   --quiet
        """;
}
