using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Platform.Gateway.Routing;
using Platform.Gateway.Telemetry;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Connections;

public sealed partial class MqttConnection
{
    private const int MaximumStackTopic = 1024;

    private async Task ReadLoopAsync()
    {
        var input = _transport.Pipe.Input;
        while (true)
        {
            var result = await input.ReadAsync(_closing.Token);
            var buffer = result.Buffer;
            MqttPacket? deferred;
            try
            {
                deferred = ProcessBatch(ref buffer);
            }
            catch (MqttProtocolException ex)
            {
                input.AdvanceTo(result.Buffer.End);
                _logger.LogDebugProtocolError(ClientId, ex);
                await FlushAcksAsync();
                await CloseAsync(ex.ReasonCode, ex.Message);
                return;
            }

            if (deferred is not null)
            {
                // Packets that need async work: stop the batch here, release what was consumed.
                input.AdvanceTo(buffer.Start);
                await FlushAcksAsync();
                if (!await HandleDeferredAsync(deferred))
                {
                    return;
                }

                continue;
            }

            await FlushAcksAsync();
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Handles every complete packet in <paramref name="buffer"/> that can be handled synchronously
    /// (PUBLISH, acknowledgements, PINGREQ), collecting the replies. Returns the first packet that
    /// needs asynchronous handling, leaving <paramref name="buffer"/> just after it.
    /// </summary>
    private MqttPacket? ProcessBatch(ref ReadOnlySequence<byte> buffer)
    {
        var processed = false;
        while (_decoder.TryReadFrame(ref buffer, out var frame))
        {
            processed = true;
            Stats.PacketsReceived[(int)frame.Type]++;
            Stats.BytesReceived += frame.Length;
            switch (frame.Type)
            {
                case PacketType.Publish:
                    HandlePublish(frame);
                    break;
                case PacketType.PubAck:
                    CompleteOutbound(_decoder.DecodePublishAck(frame).PacketId, Sessions.InflightState.AwaitingPubAck);
                    break;
                case PacketType.PubRec:
                    HandlePubRec(_decoder.DecodePublishAck(frame));
                    break;
                case PacketType.PubComp:
                    CompleteOutbound(_decoder.DecodePublishAck(frame).PacketId, Sessions.InflightState.AwaitingPubComp);
                    break;
                case PacketType.PubRel:
                    HandlePubRel(_decoder.DecodePublishAck(frame).PacketId);
                    break;
                case PacketType.PingReq:
                    _decoder.Decode(frame);
                    WriteAck(static (output, _) => WriteFixed(output, 0xC0), 0);
                    break;
                case PacketType.Subscribe or PacketType.Unsubscribe or PacketType.Disconnect or PacketType.Auth or PacketType.Connect:
                    Volatile.Write(ref _lastReceived, Stopwatch.GetTimestamp());
                    return _decoder.Decode(frame);
                default:
                    // CONNACK, SUBACK, UNSUBACK, PINGRESP travel only from server to client.
                    throw new MqttProtocolException(ReasonCode.ProtocolError, "MQTT-2.1.2", $"a client does not send {frame.Type}");
            }
        }

        if (processed)
        {
            Volatile.Write(ref _lastReceived, Stopwatch.GetTimestamp());
        }

        return null;
    }

    private void HandlePublish(in MqttFrame frame)
    {
        var view = _decoder.DecodePublish(frame);
        Stats.CountPublishReceived(view.QoS);
        var session = _session!;

        var topic = view.Topic;
        if (view.TopicAlias != 0)
        {
            var aliases = _inboundAliases ?? throw new MqttProtocolException(ReasonCode.TopicAliasInvalid, "MQTT-3.3.2-9", "Topic Alias used but the Topic Alias Maximum is 0");
            if (topic.IsEmpty)
            {
                if (!aliases.TryGet(view.TopicAlias, out var known))
                {
                    throw new MqttProtocolException(ReasonCode.ProtocolError, "MQTT-3.3.2.3.4", $"Topic Alias {view.TopicAlias} has no topic yet");
                }

                topic = known;
            }
            else
            {
                aliases.Set(view.TopicAlias, topic);
            }
        }

        if (view.QoS == QualityOfService.ExactlyOnce)
        {
            lock (session.SyncRoot)
            {
                if (session.AwaitingPubRel.Contains(view.PacketId))
                {
                    // A resent QoS 2 PUBLISH before PUBREL: acknowledge again, deliver nothing more (4.3.3).
                    WritePublishAck(PacketType.PubRec, view.PacketId, ReasonCode.Success);
                    return;
                }

                if (session.AwaitingPubRel.Count >= _options.Sessions.ReceiveMaximum)
                {
                    throw new MqttProtocolException(ReasonCode.ReceiveMaximumExceeded, "MQTT-3.3.4-7", "more unacknowledged QoS 2 PUBLISH than Receive Maximum");
                }
            }
        }

        var reason = Admit(topic, view.Payload.Length);
        var outcome = default(DeliveryOutcome);
        if (reason == ReasonCode.Success)
        {
            outcome = Route(view, topic);
        }

        if (outcome.RefusedReliable > 0 && view.QoS != QualityOfService.AtMostOnce)
        {
            // A subscriber's queue was full: the message is not safely stored everywhere it must
            // go, so the publisher must not be told it was accepted. MQTT 5 hears Quota exceeded and
            // can send it again; 3.1.1 has no negative acknowledgement, so the connection closes
            // without one and the client resends the message when it reconnects [MQTT-4.4.0-1].
            if (!V5)
            {
                throw new MqttProtocolException(ReasonCode.QuotaExceeded, "MQTT-4.4.0-1", "a subscriber queue is full; closing so the client resends");
            }

            reason = ReasonCode.QuotaExceeded;
        }

        var delivered = outcome.Delivered;

        switch (view.QoS)
        {
            case QualityOfService.AtLeastOnce:
                WritePublishAck(PacketType.PubAck, view.PacketId, AckReason(reason, delivered, view.Retain));
                break;
            case QualityOfService.ExactlyOnce:
                if (reason == ReasonCode.Success)
                {
                    lock (session.SyncRoot)
                    {
                        session.AwaitingPubRel.Add(view.PacketId);
                    }
                }

                WritePublishAck(PacketType.PubRec, view.PacketId, AckReason(reason, delivered, view.Retain));
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Limits and permissions for one incoming PUBLISH. A refused QoS 1/2 message is answered with
    /// the reason code (MQTT 5) or acknowledged and dropped (3.1.1 has no way to say no); a refused
    /// QoS 0 message is dropped. Every refusal is counted.
    /// </summary>
    private ReasonCode Admit(ReadOnlySpan<byte> topic, int payloadLength)
    {
        var limits = _options.Limits;
        if (topic.Length > limits.MaximumTopicLength || topic.Count((byte)'/') + 1 > limits.MaximumTopicLevels)
        {
            _broker.Telemetry.RecordDrop(DropReason.NotAuthorized);
            return ReasonCode.TopicNameInvalid;
        }

        var now = Stopwatch.GetTimestamp();
        if (!_publishRate.TryTake(1, now) || !_publishBytes.TryTake(payloadLength, now))
        {
            _broker.Telemetry.RecordDrop(DropReason.RateLimited);
            return ReasonCode.QuotaExceeded;
        }

        var permissions = _identity!.Permissions;
        if (ReferenceEquals(permissions, Security.TopicPermissions.AllowAll))
        {
            return ReasonCode.Success;
        }

        Span<char> chars = stackalloc char[MaximumStackTopic];
        var length = Encoding.UTF8.GetChars(topic, chars);
        if (!permissions.CanPublish(chars[..length]))
        {
            _broker.Telemetry.RecordDrop(DropReason.NotAuthorized);
            return ReasonCode.NotAuthorized;
        }

        return ReasonCode.Success;
    }

    private ReasonCode AckReason(ReasonCode admitted, int delivered, bool retained) =>
        admitted != ReasonCode.Success ? admitted
        : delivered == 0 && !retained ? ReasonCode.NoMatchingSubscribers
        : ReasonCode.Success;

    /// <summary>Routes an admitted PUBLISH; the message object is only made when someone will get it.</summary>
    private DeliveryOutcome Route(in PublishView view, ReadOnlySpan<byte> topic)
    {
        var matches = _broker.Match(topic);
        if (matches.IsEmpty && !view.Retain)
        {
            _broker.Telemetry.RecordDrop(DropReason.NoSubscribers);
            return default;
        }

        Activity? activity = null;
        string? traceParent = null;
        if (view.HasUserProperties && GatewayTelemetry.ActivitySource.HasListeners() &&
            ForwardedProperties.FindTraceParent(view.RawProperties) is { } parent &&
            ActivityContext.TryParse(parent, null, out var parentContext))
        {
            // A car that sent W3C trace context gets its trace continued here, and subscribers
            // continue from this span [traceparent as an MQTT user property].
            activity = GatewayTelemetry.ActivitySource.StartActivity("publish", ActivityKind.Server, parentContext);
            if (activity is not null)
            {
                activity.SetTag("messaging.system", "mqtt");
                activity.SetTag("messaging.operation.name", "publish");
                activity.SetTag("messaging.destination.name", Encoding.UTF8.GetString(topic));
                activity.SetTag("messaging.client.id", _session!.ClientId);
                activity.SetTag("messaging.message.body.size", view.Payload.Length);
                traceParent = activity.Id;
            }
        }

        var now = Stopwatch.GetTimestamp();
        var properties = view.RawProperties.IsEmpty ? [] : ForwardedProperties.FromReceived(view.RawProperties, traceParent);
        var message = new MqttMessage(topic, view.Payload, properties, view.QoS, view.Retain,
            MqttMessage.ExpiryFromInterval(view.MessageExpiryInterval, now), _session!.ClientId);
        if (view.Retain)
        {
            _broker.Retained.Update(message);
        }

        var outcome = matches.IsEmpty ? default : _broker.Deliver(message, matches);
        if (activity is not null)
        {
            activity.SetTag("gateway.deliveries", outcome.Delivered);
            activity.Stop();
        }

        return outcome;
    }

    private void HandlePubRec(PublishAckPacket pubRec)
    {
        var session = _session!;
        bool known;
        lock (session.SyncRoot)
        {
            known = pubRec.ReasonCode.IsFailure()
                ? session.Inflight.TryComplete(pubRec.PacketId, Sessions.InflightState.AwaitingPubRec, out _)
                : session.Inflight.TryMarkReleased(pubRec.PacketId);
        }

        if (pubRec.ReasonCode.IsFailure())
        {
            // The receiver refused the message; the QoS 2 flow ends here (4.3.3).
            _outboundSignal.Set();
            return;
        }

        WritePublishAck(PacketType.PubRel, pubRec.PacketId, known ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound);
    }

    private void HandlePubRel(ushort packetId)
    {
        var session = _session!;
        bool known;
        lock (session.SyncRoot)
        {
            known = session.AwaitingPubRel.Remove(packetId);
        }

        WritePublishAck(PacketType.PubComp, packetId, known ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound);
    }

    private void CompleteOutbound(ushort packetId, Sessions.InflightState state)
    {
        var session = _session!;
        lock (session.SyncRoot)
        {
            session.Inflight.TryComplete(packetId, state, out _);
        }

        // A slot in the in-flight window opened.
        _outboundSignal.Set();
    }

    private async Task<bool> HandleDeferredAsync(MqttPacket packet)
    {
        switch (packet)
        {
            case SubscribePacket subscribe:
                await HandleSubscribeAsync(subscribe);
                return true;
            case UnsubscribePacket unsubscribe:
                var codes = unsubscribe.TopicFilters.Select(filter => _broker.Unsubscribe(_session!, filter)).ToList();
                await TryWriteAsync(new UnsubAckPacket { PacketId = unsubscribe.PacketId, ReasonCodes = codes });
                return true;
            case DisconnectPacket disconnect:
                HandleDisconnect(disconnect);
                return false;
            case ConnectPacket:
                throw new MqttProtocolException(ReasonCode.ProtocolError, "MQTT-3.1.0-2", "second CONNECT");
            default:
                // AUTH is only valid after CONNECT asked for enhanced authentication (4.12).
                await CloseAsync(ReasonCode.ProtocolError, "AUTH is not expected");
                return false;
        }
    }

    private async Task HandleSubscribeAsync(SubscribePacket subscribe)
    {
        var session = _session!;
        var (codes, retained) = _broker.Subscribe(session, subscribe, _identity!, V5);
        if (!V5)
        {
            for (var i = 0; i < codes.Count; i++)
            {
                if (codes[i].IsFailure())
                {
                    codes[i] = ReasonCode.UnspecifiedError;
                }
            }
        }

        // The SUBACK goes out before the retained messages it triggers.
        await TryWriteAsync(new SubAckPacket { PacketId = subscribe.PacketId, ReasonCodes = codes });
        foreach (var delivery in retained)
        {
            if (session.TryEnqueue(delivery) != Sessions.EnqueueResult.Queued)
            {
                _broker.Telemetry.RecordDrop(DropReason.QueueFull);
            }
        }
    }

    private void HandleDisconnect(DisconnectPacket disconnect)
    {
        var session = _session!;
        if (disconnect.Properties?.SessionExpiryInterval is { } expiry)
        {
            if (session.ExpiryIntervalSeconds == 0 && expiry != 0)
            {
                // [MQTT-3.14.2-2]: a zero expiry from CONNECT cannot be raised at DISCONNECT.
                _ = CloseAsync(ReasonCode.ProtocolError, "Session Expiry Interval was 0 at CONNECT");
                return;
            }

            lock (session.SyncRoot)
            {
                session.ExpiryIntervalSeconds = Math.Min(expiry, _options.Sessions.MaximumSessionExpirySeconds);
            }
        }

        // A normal DISCONNECT deletes the will; 0x04 asks for it to be sent [MQTT-3.14.4-3].
        if (disconnect.ReasonCode != ReasonCode.DisconnectWithWillMessage)
        {
            _willCleared = true;
        }

        Close();
    }

    private void WritePublishAck(PacketType type, ushort packetId, ReasonCode reason) =>
        WriteAck(static (output, state) => MqttPacketEncoder.WritePublishAck(output, state.Version, state.Type, state.PacketId, state.Reason),
            (Version: _decoder.ProtocolVersion, Type: type, PacketId: packetId, Reason: reason));

    private void WriteAck<TState>(Func<IBufferWriter<byte>, TState, int> write, TState state)
    {
        var acks = _acks ??= new ArrayBufferWriter<byte>(256);
        var before = acks.WrittenCount;
        write(acks, state);
        var type = (PacketType)(acks.WrittenSpan[before] >> 4);
        Stats.PacketsSent[(int)type]++;
    }

    private static int WriteFixed(IBufferWriter<byte> output, byte firstByte)
    {
        var span = output.GetSpan(2);
        span[0] = firstByte;
        span[1] = 0;
        output.Advance(2);
        return 2;
    }

    /// <summary>Writes the acknowledgements collected while processing a batch, in one flush.</summary>
    private async ValueTask FlushAcksAsync()
    {
        if (_acks is not { WrittenCount: > 0 } acks)
        {
            return;
        }

        await _outputLock.WaitAsync(_closing.Token);
        try
        {
            var output = _transport.Pipe.Output;
            output.Write(acks.WrittenSpan);
            Stats.BytesSent += acks.WrittenCount;
            acks.ResetWrittenCount();
            await FlushAsync(output);
        }
        finally
        {
            _outputLock.Release();
        }
    }

    /// <summary>Flushes, recording when a flush is waiting on the socket so the supervisor can spot a stalled client.</summary>
    private async ValueTask FlushAsync(PipeWriter output)
    {
        var flush = output.FlushAsync(_closing.Token);
        if (flush.IsCompletedSuccessfully)
        {
            return;
        }

        Volatile.Write(ref _flushStartedAt, Stopwatch.GetTimestamp());
        try
        {
            await flush;
        }
        finally
        {
            Volatile.Write(ref _flushStartedAt, 0);
        }
    }
}
