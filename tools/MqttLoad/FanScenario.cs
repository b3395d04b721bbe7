using System.Diagnostics;
using System.Net;
using System.Text;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.MqttLoad;

/// <summary>
/// Publishers → subscribers on one thread: fan-in (many → one, or → a shared group) and fan-out
/// (one → many). "As fast as possible" is bounded by a window of messages in flight between
/// senders and receivers, so latency never measures socket-buffer depth; a fixed rate paces sends
/// by the clock in 1 ms ticks.
/// </summary>
public sealed class FanScenario
{
    private readonly LoadOptions _options;
    private readonly List<LoadConnection> _publishers = [];
    private readonly List<LoadConnection> _subscribers = [];
    private readonly LoadConnection[] _byId;
    private readonly byte[][] _topics;
    private readonly uint[] _sequence;
    private readonly byte[] _payload;
    private readonly int _expectedPerMessage;
    private readonly SequenceTracker _tracker;
    private readonly LatencyHistogram _latency = new();
    private readonly List<LoadConnection> _dirty = [];
    private readonly double _microsecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;
    private readonly Epoll _epoll;
    private int _nextPublisher;
    private long _sent;
    private long _received;
    private long _measuredSent;
    private long _measuredReceived;
    private long _measureFrom;
    private bool _measuring;
    private long _errors;

    public FanScenario(LoadOptions options)
    {
        _options = options;
        var server = new IPEndPoint(Dns.GetHostAddresses(options.Host)[0], options.Port);
        var shared = options.SharedGroup is not null;
        var filter = options.Topic.Replace("{p}", "+", StringComparison.Ordinal);
        var pid = Environment.ProcessId;
        var id = 0;
        for (var s = 0; s < options.Subscribers; s++)
        {
            var subscribe = new SubscribePacket
            {
                PacketId = 1,
                Subscriptions = [new MqttSubscription(shared ? $"$share/{options.SharedGroup}/{filter}" : filter, options.QoS)],
            };
            _subscribers.Add(LoadConnection.Open(id++, server, null, Connect($"load-sub-{pid}-{s}"), subscribe));
        }

        _topics = new byte[options.Publishers][];
        for (var p = 0; p < options.Publishers; p++)
        {
            _publishers.Add(LoadConnection.Open(id++, server, null, Connect($"load-pub-{pid}-{p}"), subscribe: null));
            _topics[p] = Encoding.UTF8.GetBytes(options.Topic.Replace("{p}", p.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        _byId = [.. _subscribers, .. _publishers];
        _sequence = new uint[options.Publishers];
        _payload = new byte[options.PayloadSize];
        _expectedPerMessage = shared ? 1 : options.Subscribers;
        _tracker = new SequenceTracker(options.Publishers * (shared ? 1 : options.Subscribers));
        _epoll = new Epoll(Math.Max(64, _byId.Length));
        foreach (var connection in _byId)
        {
            _epoll.Add(connection.Socket, connection.Id, Epoll.In);
        }

        ConnectPacket Connect(string clientId) => new()
        {
            ProtocolVersion = options.Version,
            ClientId = clientId,
            CleanStart = true,
            KeepAliveSeconds = 0,
            Properties = options.Version == MqttProtocolVersion.V500 ? new MqttProperties { ReceiveMaximum = 65535 } : null,
        };
    }

    public LoadResult Run()
    {
        var self = ProcessSampler.Self();
        var broker = _options.BrokerPid is { } pid ? new ProcessSampler(pid) : null;
        long? rssStart = null, rssMax = null;
        var start = Stopwatch.GetTimestamp();
        var warmupEnd = start + (long)(_options.WarmupSeconds * Stopwatch.Frequency);
        var end = warmupEnd + (long)(_options.DurationSeconds * Stopwatch.Frequency);
        var nextProgress = start + Stopwatch.Frequency;
        long lastSent = 0, lastReceived = 0;

        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (!_measuring && now >= warmupEnd)
            {
                // Counting starts after the warm-up (JIT, connection buffers, broker queues settle).
                _measuring = true;
                _measureFrom = now;
                _measuredSent = _sent;
                _measuredReceived = _received;
                self.Start();
                broker?.Start();
                rssStart = broker?.ResidentBytes();
                rssMax = rssStart;
            }

            if (now >= end)
            {
                break;
            }

            var quota = Quota(now, start);
            if (quota > 0)
            {
                SendBatch(quota, now);
            }

            _epoll.Wait(quota > 0 && _options.Rate == 0 ? 0 : 1, this, static (scenario, id, events) => scenario.OnEvent(id, events));
            if (now >= nextProgress)
            {
                if (broker is not null && _measuring)
                {
                    rssMax = Math.Max(rssMax ?? 0, broker.ResidentBytes());
                }

                if (!_options.Quiet)
                {
                    var inflight = (_sent * _expectedPerMessage) - _received;
                    Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(start).TotalSeconds,5:F0}s] sent {_sent - lastSent,9:N0}/s  received {_received - lastReceived,9:N0}/s  in flight {inflight,7:N0}  p99 {_latency.Percentile(99) / 1000.0,7:F3} ms");
                }

                lastSent = _sent;
                lastReceived = _received;
                nextProgress += Stopwatch.Frequency;
            }
        }

        var measuredEnd = Stopwatch.GetTimestamp();
        var measuredSeconds = Stopwatch.GetElapsedTime(_measureFrom, measuredEnd).TotalSeconds;
        var sentInWindow = _sent - _measuredSent;
        var receivedInWindow = _received - _measuredReceived;
        var toolCores = self.CoresSinceStart();
        var brokerCores = broker?.CoresSinceStart();
        var rssEnd = broker?.ResidentBytes();

        // Let what is in flight arrive before counting loss.
        var drainUntil = Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency);
        while (_received < _sent * _expectedPerMessage && Stopwatch.GetTimestamp() < drainUntil)
        {
            _epoll.Wait(10, this, static (scenario, id, events) => scenario.OnEvent(id, events));
        }

        var result = new LoadResult
        {
            Scenario = _options.Scenario,
            Label = _options.Label,
            Version = _options.Version == MqttProtocolVersion.V500 ? "5" : "3.1.1",
            QoS = (int)_options.QoS,
            PayloadSize = _options.PayloadSize,
            Publishers = _options.Publishers,
            Subscribers = _options.Subscribers,
            SharedGroup = _options.SharedGroup,
            Rate = _options.Rate,
            DurationSeconds = measuredSeconds,
            Sent = _sent,
            Received = _received,
            SentPerSecond = sentInWindow / measuredSeconds,
            ReceivedPerSecond = receivedInWindow / measuredSeconds,
            Lost = (_sent * _expectedPerMessage) - _tracker.Unique,
            Duplicates = _tracker.Duplicates,
            Gaps = _options.SharedGroup is null ? _tracker.Gaps : null,
            ToolCores = toolCores,
            BrokerCores = brokerCores,
            BrokerRssStartBytes = rssStart,
            BrokerRssEndBytes = rssEnd,
            BrokerRssMaxBytes = rssMax is { } max && rssEnd is { } e ? Math.Max(max, e) : rssMax,
            Errors = _errors,
        };
        result.SetLatency(_latency);
        foreach (var connection in _byId)
        {
            connection.Dispose();
        }

        _epoll.Dispose();
        return result;
    }

    /// <summary>How many messages may be sent now: the clock's allowance at a fixed rate, otherwise what the window leaves.</summary>
    private long Quota(long now, long start)
    {
        var inFlight = (_sent * _expectedPerMessage) - _received;
        if (_options.Rate > 0)
        {
            var due = (long)(Stopwatch.GetElapsedTime(start, now).TotalSeconds * _options.Rate) - _sent;
            // A broker that cannot keep up must not make the backlog grow without bound.
            var backlogLimit = Math.Max(_options.Window, _options.Rate * 5L);
            return inFlight > backlogLimit ? 0 : due;
        }

        return (_options.Window - inFlight) / _expectedPerMessage;
    }

    private void SendBatch(long quota, long now)
    {
        var publishers = _publishers.Count;
        // Several messages per publisher per turn, so each send() carries a batch.
        var perPublisher = (int)Math.Clamp((quota + publishers - 1) / publishers, 1, 64);
        var blocked = 0;
        while (quota > 0 && blocked < publishers)
        {
            var index = _nextPublisher;
            _nextPublisher = (_nextPublisher + 1) % publishers;
            var publisher = _publishers[index];
            var count = (int)Math.Min(perPublisher, quota);
            if (_options.QoS != QualityOfService.AtMostOnce)
            {
                count = Math.Min(count, _options.PublisherInflight - publisher.Inflight);
            }

            if (count <= 0 || publisher.PendingSendBytes > 256 * 1024)
            {
                blocked++;
                continue;
            }

            blocked = 0;
            for (var i = 0; i < count; i++)
            {
                FanPayload.Write(_payload, index, _sequence[index]++, now);
                var packetId = _options.QoS == QualityOfService.AtMostOnce ? (ushort)0 : publisher.NextPacketId();
                MqttPacketEncoder.WritePublish(publisher, _options.Version, _topics[index], _payload, _options.QoS, retain: false, dup: false, packetId);
            }

            if (_options.QoS != QualityOfService.AtMostOnce)
            {
                publisher.Inflight += count;
            }

            _sent += count;
            quota -= count;
            Flush(publisher);
        }
    }

    private void OnEvent(int id, uint events)
    {
        var connection = _byId[id];
        if ((events & Epoll.Out) != 0)
        {
            Flush(connection);
        }

        if ((events & (Epoll.In | Epoll.HangUp | Epoll.Error)) == 0)
        {
            return;
        }

        if (!connection.TryReceive())
        {
            _errors++;
            _epoll.Remove(connection.Socket);
            return;
        }

        var now = Stopwatch.GetTimestamp();
        var subscriberIndex = id < _subscribers.Count ? id : -1;
        var buffer = connection.Received;
        var total = buffer.Length;
        var decoder = connection.Decoder;
        var respond = false;
        while (decoder.TryReadFrame(ref buffer, out var frame))
        {
            switch (frame.Type)
            {
                case PacketType.Publish:
                    var view = decoder.DecodePublish(frame);
                    var (publisher, sequence, sentAt) = FanPayload.Read(view.Payload);
                    _tracker.Record(_expectedPerMessage == 1 ? publisher : (publisher * _subscribers.Count) + subscriberIndex, sequence);
                    _received++;
                    if (_measuring)
                    {
                        _latency.Record((long)((now - sentAt) * _microsecondsPerTick));
                    }

                    if (view.QoS == QualityOfService.AtLeastOnce)
                    {
                        MqttPacketEncoder.WritePublishAck(connection, connection.Version, PacketType.PubAck, view.PacketId);
                        respond = true;
                    }
                    else if (view.QoS == QualityOfService.ExactlyOnce)
                    {
                        MqttPacketEncoder.WritePublishAck(connection, connection.Version, PacketType.PubRec, view.PacketId);
                        respond = true;
                    }

                    break;
                case PacketType.PubAck or PacketType.PubComp:
                    connection.Inflight--;
                    break;
                case PacketType.PubRec:
                    MqttPacketEncoder.WritePublishAck(connection, connection.Version, PacketType.PubRel, PacketIdOf(frame));
                    respond = true;
                    break;
                case PacketType.PubRel:
                    MqttPacketEncoder.WritePublishAck(connection, connection.Version, PacketType.PubComp, PacketIdOf(frame));
                    respond = true;
                    break;
                case PacketType.Disconnect:
                    _errors++;
                    break;
                default:
                    break;
            }
        }

        connection.Consume((int)(total - buffer.Length));
        if (respond)
        {
            Flush(connection);
        }
    }

    private static ushort PacketIdOf(in MqttFrame frame) => (ushort)((frame.Body[0] << 8) | frame.Body[1]);

    private void Flush(LoadConnection connection)
    {
        var complete = connection.TryFlush();
        if (complete == connection.WatchingWrites)
        {
            // Watch for writability only while something is waiting to go out.
            connection.WatchingWrites = !complete;
            _epoll.Modify(connection.Socket, connection.Id, complete ? Epoll.In : Epoll.In | Epoll.Out);
        }
    }
}
