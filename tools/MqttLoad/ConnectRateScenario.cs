using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.MqttLoad;

/// <summary>
/// CONNECT → CONNACK → DISCONNECT → close, over and over, with <c>--concurrency</c> cycles in
/// flight, for <c>--duration</c>: how many clients per second a broker can accept.
/// </summary>
public sealed class ConnectRateScenario(LoadOptions options)
{
    private long _cycles;
    private long _errors;

    public LoadResult Run()
    {
        var server = new IPEndPoint(Dns.GetHostAddresses(options.Host)[0], options.Port);
        var broker = options.BrokerPid is { } pid ? new ProcessSampler(pid) : null;
        var self = ProcessSampler.Self();
        var sources = options.SourceAddresses.Count > 0 ? options.SourceAddresses : [IPAddress.Loopback];
        using var stop = new CancellationTokenSource();
        var start = Stopwatch.GetTimestamp();
        self.Start();
        broker?.Start();
        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(i => Task.Run(() => CycleAsync(server, sources[i % sources.Count], i, stop.Token)))
            .ToArray();
        var last = 0L;
        for (var second = 1; second <= options.DurationSeconds; second++)
        {
            Thread.Sleep(1000);
            var cycles = Interlocked.Read(ref _cycles);
            if (!options.Quiet)
            {
                Console.Error.WriteLine($"[{second,5}s] {cycles - last:N0} CONNECT/s, {Interlocked.Read(ref _errors)} errors");
            }

            last = cycles;
        }

        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var total = Interlocked.Read(ref _cycles);
        var result = new LoadResult
        {
            Scenario = "connrate",
            Label = options.Label,
            Version = options.Version == MqttProtocolVersion.V500 ? "5" : "3.1.1",
            Connections = total,
            ConnectionsPerSecond = total / elapsed,
            DurationSeconds = elapsed,
            ToolCores = self.CoresSinceStart(),
            BrokerCores = broker?.CoresSinceStart(),
            BrokerRssEndBytes = broker?.ResidentBytes(),
            BrokerRssMaxBytes = broker?.ResidentBytes(),
            Errors = Interlocked.Read(ref _errors),
        };
        stop.Cancel();
        Task.WaitAll(workers, TimeSpan.FromSeconds(10));
        return result;
    }

    private async Task CycleAsync(IPEndPoint server, IPAddress source, int worker, CancellationToken stop)
    {
        var connect = Encode(new ConnectPacket { ProtocolVersion = options.Version, ClientId = $"load-cr-{Environment.ProcessId}-{worker}", KeepAliveSeconds = 30 });
        var disconnect = Encode(new DisconnectPacket());
        var connAck = new byte[64];
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(server, stop);
                await socket.SendAsync(connect, SocketFlags.None, stop);
                var read = await socket.ReceiveAsync(connAck, SocketFlags.None, stop);
                if (read < 4 || connAck[0] != 0x20 || connAck[3] != 0)
                {
                    Interlocked.Increment(ref _errors);
                    continue;
                }

                await socket.SendAsync(disconnect, SocketFlags.None, stop);
                socket.Shutdown(SocketShutdown.Both);
                Interlocked.Increment(ref _cycles);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                Interlocked.Increment(ref _errors);
            }
        }
    }

    private byte[] Encode(MqttPacket packet)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        MqttPacketEncoder.Write(buffer, packet, options.Version);
        return buffer.WrittenSpan.ToArray();
    }
}
