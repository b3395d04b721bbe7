using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.MqttLoad;

/// <summary>
/// Opens <c>--count</c> idle MQTT connections at <c>--connect-rate</c>, spread over the source
/// addresses given (each address has only ~28k ephemeral ports), holds them, and reports the
/// broker's resident memory per connection.
/// </summary>
public sealed class ConnectionsScenario(LoadOptions options)
{
    public LoadResult Run()
    {
        var server = new IPEndPoint(Dns.GetHostAddresses(options.Host)[0], options.Port);
        var broker = options.BrokerPid is { } pid ? new ProcessSampler(pid) : null;
        var self = ProcessSampler.Self();
        self.Start();
        broker?.Start();
        var baseline = broker?.ResidentBytes();
        var sockets = new List<Socket>(options.Count);
        var sources = options.SourceAddresses.Count > 0 ? options.SourceAddresses : [null!];
        var start = Stopwatch.GetTimestamp();
        var errors = 0L;
        var nextProgress = start + Stopwatch.Frequency;
        for (var i = 0; i < options.Count; i++)
        {
            // Pace to the connect rate.
            var due = start + (long)(i * (double)Stopwatch.Frequency / Math.Max(1, options.ConnectRate));
            while (Stopwatch.GetTimestamp() < due)
            {
                Thread.Sleep(0);
            }

            try
            {
                sockets.Add(Open(server, sources[i % sources.Count], i));
            }
            catch (Exception ex) when (ex is SocketException or InvalidOperationException or IOException)
            {
                errors++;
            }

            if (!options.Quiet && Stopwatch.GetTimestamp() >= nextProgress)
            {
                Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(start).TotalSeconds,5:F0}s] {sockets.Count:N0} connections open, {errors} errors");
                nextProgress += Stopwatch.Frequency;
            }
        }

        var connectSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Thread.Sleep(TimeSpan.FromSeconds(options.HoldSeconds));
        var held = broker?.ResidentBytes();
        var result = new LoadResult
        {
            Scenario = "conn",
            Label = options.Label,
            Version = options.Version == MqttProtocolVersion.V500 ? "5" : "3.1.1",
            Connections = sockets.Count,
            ConnectionsPerSecond = sockets.Count / connectSeconds,
            DurationSeconds = connectSeconds,
            ToolCores = self.CoresSinceStart(),
            BrokerCores = broker?.CoresSinceStart(),
            BrokerRssStartBytes = baseline,
            BrokerRssEndBytes = held,
            BrokerRssMaxBytes = held,
            BrokerBytesPerConnection = baseline is { } b && held is { } h && sockets.Count > 0 ? (double)(h - b) / sockets.Count : null,
            Errors = errors,
        };
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        return result;
    }

    private Socket Open(IPEndPoint server, IPAddress? source, int index)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }

            socket.Connect(server);
            var buffer = new ArrayBufferWriter<byte>(64);
            // Keep-alive 0: an idle connection must not be closed by the broker while it is held.
            MqttPacketEncoder.Write(buffer, new ConnectPacket
            {
                ProtocolVersion = options.Version,
                ClientId = $"load-idle-{Environment.ProcessId}-{index}",
                KeepAliveSeconds = 0,
            }, options.Version);
            socket.Send(buffer.WrittenSpan);
            Span<byte> connAck = stackalloc byte[64];
            var read = socket.Receive(connAck);
            if (read < 4 || connAck[0] != 0x20 || connAck[3] != 0)
            {
                throw new InvalidOperationException("CONNECT refused");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
