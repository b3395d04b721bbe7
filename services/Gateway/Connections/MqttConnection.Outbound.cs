using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using Platform.Gateway.Routing;
using Platform.Gateway.Sessions;
using Platform.Gateway.Telemetry;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Connections;

public sealed partial class MqttConnection
{
    /// <summary>Bytes written before a flush is forced while draining a long queue.</summary>
    private const int FlushThreshold = 64 * 1024;

    private async Task RunWriterAsync()
    {
        try
        {
            if (_retransmitOnStart)
            {
                await RetransmitAsync();
            }

            while (!_closing.IsCancellationRequested)
            {
                await DrainAsync();
                await _outboundSignal.WaitAsync();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection is closing; the read loop finishes the cleanup.
        }
    }

    /// <summary>
    /// Resends what was in flight when the previous connection of this session ended, in the
    /// original order with the original packet identifiers: PUBLISH with DUP set, or PUBREL for
    /// messages already past PUBREC [MQTT-4.4.0-1], [MQTT-3.3.1-1].
    /// </summary>
    private async Task RetransmitAsync()
    {
        var session = _session!;
        InflightEntry[] entries;
        lock (session.SyncRoot)
        {
            entries = session.Inflight.Snapshot();
        }

        await _outputLock.WaitAsync(_closing.Token);
        try
        {
            var output = _transport.Pipe.Output;
            var now = Stopwatch.GetTimestamp();
            foreach (var entry in entries)
            {
                if (entry.State == InflightState.AwaitingPubComp)
                {
                    Stats.BytesSent += MqttPacketEncoder.WritePublishAck(output, _decoder.ProtocolVersion, PacketType.PubRel, entry.PacketId);
                    Stats.PacketsSent[(int)PacketType.PubRel]++;
                }
                else
                {
                    WritePublish(output, entry.Delivery, entry.PacketId, dup: true, now);
                }
            }

            await FlushAsync(output);
        }
        finally
        {
            _outputLock.Release();
        }
    }

    /// <summary>
    /// Moves queued deliveries into the socket: QoS 1/2 only while the in-flight window has room
    /// [MQTT-4.9.0-2], expired messages skipped [MQTT-3.3.2-5], one flush per drained batch.
    /// </summary>
    private async Task DrainAsync()
    {
        var session = _session!;
        if (!session.TryPeek(out _))
        {
            return;
        }

        await _outputLock.WaitAsync(_closing.Token);
        try
        {
            var output = _transport.Pipe.Output;
            var unflushed = 0;
            var now = Stopwatch.GetTimestamp();
            while (session.Connection == this && session.TryPeek(out var next))
            {
                ushort packetId = 0;
                if (next.QoS != QualityOfService.AtMostOnce)
                {
                    lock (session.SyncRoot)
                    {
                        if (session.Inflight.IsFull)
                        {
                            break;
                        }
                    }
                }

                session.TryDequeue(out var delivery);
                if (delivery.Message.HasExpired(now))
                {
                    _broker.Telemetry.RecordDrop(DropReason.Expired);
                    continue;
                }

                if (!FitsClient(delivery, now))
                {
                    // Too large for the client: discard as if delivered [MQTT-3.1.2-25].
                    _broker.Telemetry.RecordDrop(DropReason.PacketTooLarge);
                    continue;
                }

                if (delivery.QoS != QualityOfService.AtMostOnce)
                {
                    lock (session.SyncRoot)
                    {
                        packetId = session.Inflight.Add(delivery);
                    }
                }

                unflushed += WritePublish(output, delivery, packetId, dup: false, now);
                if (unflushed >= FlushThreshold)
                {
                    await FlushAsync(output);
                    unflushed = 0;
                    now = Stopwatch.GetTimestamp();
                }
            }

            if (unflushed > 0)
            {
                await FlushAsync(output);
            }
        }
        finally
        {
            _outputLock.Release();
        }
    }

    private bool FitsClient(in Delivery delivery, long now)
    {
        if (_clientMaximumPacketSize == uint.MaxValue)
        {
            return true;
        }

        var message = delivery.Message;
        var properties = V5
            ? message.ForwardedProperties.Length + 16 + (5 * delivery.SubscriptionIdentifiers.Count)
              + (delivery.PublisherInfo && message.PublisherClientId is { } publisher ? 5 + MqttBroker.PublisherClientIdProperty.Length + System.Text.Encoding.UTF8.GetByteCount(publisher) : 0)
            : 0;
        var body = 2 + message.Topic.Length + 2 + properties + 4 + message.PayloadLength;
        return body + 5 <= _clientMaximumPacketSize;
    }

    /// <summary>Encodes one PUBLISH for this client straight into the transport's buffer.</summary>
    private int WritePublish(PipeWriter output, in Delivery delivery, ushort packetId, bool dup, long now)
    {
        var message = delivery.Message;
        var topic = message.Topic;
        int written;
        if (!V5)
        {
            written = MqttPacketEncoder.WritePublish(output, _decoder.ProtocolVersion, topic, message.Payload, delivery.QoS, delivery.Retain, dup, packetId);
        }
        else
        {
            // Per-delivery properties: the forwarded block plus Message Expiry (time left,
            // [MQTT-3.3.2-6]), Subscription Identifiers [MQTT-3.3.4-3] and a Topic Alias.
            var forwarded = message.ForwardedProperties;
            var ids = delivery.SubscriptionIdentifiers;
            var publisher = delivery.PublisherInfo ? message.PublisherClientId : null;
            var size = forwarded.Length + 5 + (ids.Count * 5) + 3 + (publisher is null ? 0 : 5 + MqttBroker.PublisherClientIdProperty.Length + (publisher.Length * 3));
            byte[]? rented = null;
            var properties = size <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(size));
            forwarded.CopyTo(properties);
            var length = forwarded.Length;
            if (message.RemainingExpirySeconds(now) is { } remaining)
            {
                properties[length++] = (byte)PropertyId.MessageExpiryInterval;
                BinaryPrimitives.WriteUInt32BigEndian(properties[length..], remaining);
                length += 4;
            }

            for (var i = 0; i < ids.Count; i++)
            {
                properties[length++] = (byte)PropertyId.SubscriptionIdentifier;
                length += VariableByteInteger.Write(properties[length..], ids[i]);
            }

            if (publisher is not null)
            {
                length += WriteUserProperty(properties[length..], MqttBroker.PublisherClientIdProperty, publisher);
            }

            if (_outboundAliases is { } aliases && !dup)
            {
                var alias = aliases.Resolve(topic, out var sendTopic);
                if (alias != 0)
                {
                    properties[length++] = (byte)PropertyId.TopicAlias;
                    BinaryPrimitives.WriteUInt16BigEndian(properties[length..], alias);
                    length += 2;
                    if (!sendTopic)
                    {
                        topic = default;
                    }
                }
            }

            written = MqttPacketEncoder.WritePublish(output, MqttProtocolVersion.V500, topic, message.Payload, delivery.QoS, delivery.Retain, dup, packetId, properties[..length]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        Stats.PacketsSent[(int)PacketType.Publish]++;
        Stats.CountPublishSent(delivery.QoS);
        Stats.BytesSent += written;
        if ((++_sampleCounter & 15) == 0 && _broker.Telemetry.DeliveryLatencyEnabled)
        {
            _broker.Telemetry.RecordDeliveryLatency(message.ReceivedTimestamp);
        }

        return written;
    }

    private static int WriteUserProperty(Span<byte> destination, string name, string value)
    {
        destination[0] = (byte)PropertyId.UserProperty;
        var nameLength = System.Text.Encoding.UTF8.GetBytes(name, destination[3..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)nameLength);
        var valueStart = 3 + nameLength;
        var valueLength = System.Text.Encoding.UTF8.GetBytes(value, destination[(valueStart + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[valueStart..], (ushort)valueLength);
        return valueStart + 2 + valueLength;
    }
}
