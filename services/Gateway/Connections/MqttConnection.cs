using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Platform.Gateway.Configuration;
using Platform.Gateway.Routing;
using Platform.Gateway.Security;
using Platform.Gateway.Sessions;
using Platform.Gateway.Telemetry;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Connections;

/// <summary>
/// One client connection: the handshake, a read loop that handles packets as they arrive, and a
/// writer loop that drains the session's queue into the socket.
/// </summary>
/// <remarks>
/// Both loops write to the transport's output, so they take turns through <see cref="_outputLock"/>;
/// the read loop collects its acknowledgements for a whole batch of packets and writes them in one
/// go. Publishers never touch this connection's socket: they queue into its session and set
/// <see cref="_outboundSignal"/>.
/// </remarks>
public sealed partial class MqttConnection
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly MqttBroker _broker;
    private readonly IMqttTransport _transport;
    private readonly ILogger _logger;
    private readonly GatewayOptions _options;
    private readonly MqttPacketDecoder _decoder;
    private readonly SemaphoreSlim _outputLock = new(1, 1);
    private readonly AsyncSignal _outboundSignal = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly SharedTokenBucket _connectRate;

    private ArrayBufferWriter<byte>? _acks;
    private Session? _session;
    private MqttIdentity? _identity;
    private MqttWillMessage? _will;
    private InboundTopicAliases? _inboundAliases;
    private OutboundTopicAliases? _outboundAliases;
    private TokenBucket _publishRate;
    private TokenBucket _publishBytes;
    private long _keepAliveTicks;
    private long _lastReceived;
    private long _flushStartedAt;
    private uint _clientMaximumPacketSize = uint.MaxValue;
    private bool _retransmitOnStart;
    private int _sampleCounter;
    private volatile bool _takenOver;
    private bool _willCleared;

    public MqttConnection(MqttBroker broker, IMqttTransport transport, SharedTokenBucket connectRate, ILogger logger)
    {
        _broker = broker;
        _transport = transport;
        _connectRate = connectRate;
        _logger = logger;
        _options = broker.Options;
        _decoder = new MqttPacketDecoder(isServer: true, _options.Sessions.MaximumPacketSize);
        ConnectedAt = DateTimeOffset.UtcNow;
        _lastReceived = Stopwatch.GetTimestamp();
    }

    public long Id { get; private set; }

    public ConnectionStats Stats { get; } = new();

    public DateTimeOffset ConnectedAt { get; }

    public string? ClientId => _session?.ClientId;

    public string? UserName => _identity?.UserName;

    public MqttProtocolVersion ProtocolVersion => _decoder.ProtocolVersion;

    public IMqttTransport Transport => _transport;

    public Session? Session => _session;

    public ushort KeepAliveSeconds { get; private set; }

    private bool V5 => _decoder.ProtocolVersion == MqttProtocolVersion.V500;

    /// <summary>Runs the connection until either side closes it.</summary>
    public async Task RunAsync(CancellationToken connectionClosed)
    {
        Id = _broker.Register(this);
        using var closedRegistration = connectionClosed.Register(static state => ((CancellationTokenSource)state!).Cancel(), _closing);
        Task? writer = null;
        try
        {
            if (!await HandshakeAsync())
            {
                return;
            }

            writer = RunWriterAsync();
            await ReadLoopAsync();
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // Closed by the peer, the supervisor or a takeover.
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or InvalidOperationException or ObjectDisposedException)
        {
            _logger.LogDebug(ex, "Connection {ConnectionId} ({ClientId}) ended", Id, ClientId);
        }
        finally
        {
            await _closing.CancelAsync();
            _outboundSignal.Set();
            if (writer is not null)
            {
                await writer.WaitAsync(CloseTimeout).ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            OnClosed();
            _broker.Unregister(Id);
            _broker.Telemetry.OnConnectionClosed(Stats);
            _decoder.Dispose();
            await _transport.Pipe.Input.CompleteAsync();
            await _transport.Pipe.Output.CompleteAsync();
        }
    }

    /// <summary>Closes the connection, sending DISCONNECT with <paramref name="reason"/> first to an MQTT 5 client.</summary>
    public async Task CloseAsync(ReasonCode reason, string? reasonString = null)
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        if (V5 && _session is not null)
        {
            var disconnect = new DisconnectPacket { ReasonCode = reason };
            if (reasonString is not null)
            {
                disconnect.EnsureProperties().ReasonString = reasonString;
            }

            await TryWriteAsync(disconnect);
        }

        Close();
    }

    /// <summary>
    /// Ends the connection gracefully: the loops stop, and completing the transport's output lets
    /// what was written (a CONNACK or DISCONNECT with its reason) reach the client before the FIN.
    /// </summary>
    public void Close() => _closing.Cancel();

    /// <summary>Closes the network connection at once, discarding unsent output (for clients that stopped reading).</summary>
    public void Abort()
    {
        _closing.Cancel();
        _transport.Abort();
    }

    /// <summary>Called by the connection that took this one's session (3.1.4 step 2).</summary>
    public void TakeOver(bool sessionEnded)
    {
        _takenOver = true;
        // The will of a taken-over connection: published at once when there is no delay or the
        // session ended; otherwise the new connection arrived within the Will Delay Interval and it
        // is not sent [MQTT-3.1.3-9].
        if (_will is { } will && !_willCleared)
        {
            _willCleared = true;
            if (sessionEnded || (will.Properties?.WillDelayInterval ?? 0) == 0)
            {
                PublishWill(will);
            }
        }

        _ = CloseAsync(ReasonCode.SessionTakenOver);
    }

    public void SignalOutbound() => _outboundSignal.Set();

    /// <summary>True when nothing arrived for 1.5 times the keep-alive [MQTT-3.1.2-22].</summary>
    public bool KeepAliveExpired(long now) =>
        _keepAliveTicks > 0 && now - Volatile.Read(ref _lastReceived) > _keepAliveTicks;

    /// <summary>True when a flush has been waiting on the socket longer than allowed.</summary>
    public bool WriteStalled(long now, long limitTicks)
    {
        var started = Volatile.Read(ref _flushStartedAt);
        return started != 0 && now - started > limitTicks;
    }

    private async Task<bool> HandshakeAsync()
    {
        ConnectPacket connect;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token))
        {
            timeout.CancelAfter(_options.Sessions.ConnectTimeout);
            var first = await ReadConnectAsync(timeout.Token);
            if (first is null)
            {
                return false;
            }

            connect = first;
        }

        var version = connect.ProtocolVersion;
        var v5 = version == MqttProtocolVersion.V500;

        if (_connectRate is not null && !_connectRate.TryTake())
        {
            await RefuseAsync(ReasonCode.ConnectionRateExceeded);
            return false;
        }

        if (_options.Limits.MaximumConnections > 0 && _broker.ConnectionCount > _options.Limits.MaximumConnections)
        {
            await RefuseAsync(v5 ? ReasonCode.QuotaExceeded : ReasonCode.ServerUnavailable);
            return false;
        }

        if (connect.Properties?.AuthenticationMethod is not null)
        {
            // Enhanced authentication (4.12) is not offered; say so rather than guess [MQTT-4.12.0-1].
            await RefuseAsync(ReasonCode.BadAuthenticationMethod);
            return false;
        }

        var clientId = connect.ClientId;
        string? assignedClientId = null;
        if (clientId.Length == 0)
        {
            if (!v5 && !connect.CleanStart)
            {
                // 3.1.1: a zero-length id needs Clean Session = 1 [MQTT-3.1.3-8].
                await RefuseAsync(ReasonCode.ClientIdentifierNotValid);
                return false;
            }

            clientId = assignedClientId = "auto-" + Guid.NewGuid().ToString("N");
        }

        var authentication = await _broker.Authenticator.AuthenticateAsync(
            new MqttConnectRequest(clientId, connect.UserName, connect.Password, _transport.ClientCertificate, _transport.RemoteEndPoint, version, _transport.Listener),
            _closing.Token);
        if (!authentication.Succeeded)
        {
            _logger.LogInformation("Refused {ClientId} from {Remote}: {Reason}", clientId, _transport.RemoteEndPoint, authentication.ReasonCode);
            await RefuseAsync(authentication.ReasonCode, authentication.ReasonString);
            return false;
        }

        _identity = authentication.Identity!;
        if (connect.Will is { } will)
        {
            if (!CanPublish(will.Topic))
            {
                await RefuseAsync(ReasonCode.NotAuthorized, "will topic not allowed");
                return false;
            }

            _will = will;
        }

        var sessions = _options.Sessions;
        var requestedExpiry = v5 ? connect.Properties?.SessionExpiryInterval ?? 0 : (connect.CleanStart ? 0 : uint.MaxValue);
        var expiry = Math.Min(requestedExpiry, sessions.MaximumSessionExpirySeconds);
        var keepAlive = connect.KeepAliveSeconds;
        var serverKeepAlive = false;
        if (v5 && sessions.ServerKeepAliveSeconds > 0 && (keepAlive == 0 || keepAlive > sessions.ServerKeepAliveSeconds))
        {
            // Only MQTT 5 can be told a different keep-alive (Server Keep Alive, 3.2.2.3.14).
            keepAlive = sessions.ServerKeepAliveSeconds;
            serverKeepAlive = true;
        }

        KeepAliveSeconds = keepAlive;
        _keepAliveTicks = keepAlive == 0 ? 0 : (long)(keepAlive * 1.5 * Stopwatch.Frequency);
        _clientMaximumPacketSize = connect.Properties?.MaximumPacketSize ?? uint.MaxValue;
        if (v5)
        {
            _inboundAliases = sessions.TopicAliasMaximum > 0 ? new InboundTopicAliases(sessions.TopicAliasMaximum) : null;
            _outboundAliases = connect.Properties?.TopicAliasMaximum is > 0 and var aliasMaximum ? new OutboundTopicAliases(aliasMaximum) : null;
        }

        _publishRate = new TokenBucket(_options.Limits.PublishRatePerSecond);
        _publishBytes = new TokenBucket(_options.Limits.PublishBytesPerSecond);

        var attachment = _broker.Sessions.Attach(this, clientId, connect.CleanStart, expiry);
        var session = attachment.Session;
        _session = session;
        if (attachment.Discarded is { } discarded)
        {
            _broker.EndSession(discarded);
        }

        attachment.TakenOver?.TakeOver(sessionEnded: attachment.Discarded is not null);
        lock (session.SyncRoot)
        {
            // A new connection within the Will Delay Interval cancels the pending will [MQTT-3.1.3-9].
            session.PendingWill = null;
            session.Inflight.Capacity = Math.Min(connect.Properties?.ReceiveMaximum ?? ushort.MaxValue, sessions.MaximumInflightMessages);
            _retransmitOnStart = attachment.SessionPresent && session.Inflight.Count > 0;
        }

        var connAck = new ConnAckPacket { SessionPresent = attachment.SessionPresent, ReasonCode = ReasonCode.Success };
        if (v5)
        {
            var properties = connAck.EnsureProperties();
            properties.ReceiveMaximum = sessions.ReceiveMaximum;
            properties.MaximumPacketSize = (uint)sessions.MaximumPacketSize;
            properties.TopicAliasMaximum = sessions.TopicAliasMaximum;
            properties.AssignedClientIdentifier = assignedClientId;
            if (serverKeepAlive)
            {
                properties.ServerKeepAlive = keepAlive;
            }

            if (expiry != requestedExpiry)
            {
                // Tell the client the expiry it actually got (3.2.2.3.2).
                properties.SessionExpiryInterval = expiry;
            }
        }

        if (!await TryWriteAsync(connAck))
        {
            return false;
        }

        _logger.LogDebug("Connected {ClientId} ({Version}, {Listener}, session present: {Present})", clientId, version, _transport.Listener, attachment.SessionPresent);
        return true;
    }

    private async Task<ConnectPacket?> ReadConnectAsync(CancellationToken cancellationToken)
    {
        var input = _transport.Pipe.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // No CONNECT within a reasonable time: close the connection (3.1.4).
                Close();
                return null;
            }

            var buffer = result.Buffer;
            try
            {
                if (_decoder.TryReadFrame(ref buffer, out var frame))
                {
                    var packet = _decoder.Decode(frame);
                    input.AdvanceTo(buffer.Start);
                    Stats.PacketsReceived[(int)PacketType.Connect]++;
                    Stats.BytesReceived += frame.Length;
                    return (ConnectPacket)packet;
                }
            }
            catch (MqttProtocolException ex)
            {
                input.AdvanceTo(result.Buffer.End);
                await RefuseAfterProtocolErrorAsync(ex);
                return null;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// A CONNECT that broke the rules: an unsupported version gets the CONNACK its sender can read
    /// [MQTT-3.1.2-2]; other errors get a CONNACK with the reason code for MQTT 5, a rejected client
    /// identifier gets return code 2 in 3.1.1, anything else in 3.1.1 just the close.
    /// </summary>
    private async Task RefuseAfterProtocolErrorAsync(MqttProtocolException ex)
    {
        _logger.LogDebug("Bad CONNECT from {Remote}: {Error}", _transport.RemoteEndPoint, ex.Message);
        MqttProtocolVersion replyVersion;
        if (ex.ReasonCode == ReasonCode.UnsupportedProtocolVersion)
        {
            replyVersion = ex.RequestedVersion == MqttProtocolVersion.V500 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311;
        }
        else if (_decoder.ProtocolVersion == MqttProtocolVersion.V500)
        {
            replyVersion = MqttProtocolVersion.V500;
        }
        else if (ex.ReasonCode == ReasonCode.ClientIdentifierNotValid && _decoder.ProtocolVersion != MqttProtocolVersion.Unknown)
        {
            // 3.1.1 reports this one in CONNACK (return code 2) [MQTT-3.1.3-8].
            replyVersion = _decoder.ProtocolVersion;
        }
        else
        {
            Close();
            return;
        }

        await TryWriteAsync(new ConnAckPacket { ReasonCode = ex.ReasonCode }, replyVersion);
        Close();
    }

    private async Task RefuseAsync(ReasonCode reason, string? reasonString = null)
    {
        var connAck = new ConnAckPacket { ReasonCode = reason };
        if (reasonString is not null && V5)
        {
            connAck.EnsureProperties().ReasonString = reasonString;
        }

        await TryWriteAsync(connAck);
        Close();
    }

    /// <summary>Writes one packet and flushes; false when the connection is already gone.</summary>
    private async Task<bool> TryWriteAsync(MqttPacket packet, MqttProtocolVersion? version = null)
    {
        if (!await _outputLock.WaitAsync(CloseTimeout))
        {
            return false;
        }

        try
        {
            var output = _transport.Pipe.Output;
            var written = MqttPacketEncoder.Write(output, packet, version ?? _decoder.ProtocolVersion);
            Stats.PacketsSent[(int)packet.Type]++;
            Stats.BytesSent += written;
            var flush = await output.FlushAsync(_closing.Token);
            return !flush.IsCompleted;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _outputLock.Release();
        }
    }

    /// <summary>Session and will bookkeeping once the network connection is gone.</summary>
    private void OnClosed()
    {
        var session = _session;
        if (session is null || _takenOver)
        {
            return;
        }

        if (!_broker.Sessions.Detach(session, this))
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        if (_will is { } will && !_willCleared)
        {
            _willCleared = true;
            var delay = Math.Min(will.Properties?.WillDelayInterval ?? 0, session.ExpiryIntervalSeconds);
            if (delay == 0)
            {
                PublishWill(will);
            }
            else
            {
                // The will waits for its delay or the end of the session, whichever comes first [MQTT-3.1.3-9].
                lock (session.SyncRoot)
                {
                    session.PendingWill = will;
                    session.WillDueAt = now + (long)(delay * (double)Stopwatch.Frequency);
                }
            }
        }

        if (session.ExpiryIntervalSeconds == 0)
        {
            if (_broker.Sessions.TryEnd(session))
            {
                _broker.EndSession(session);
            }

            return;
        }

        _broker.HandOverSharedDeliveries(session);
    }

    private void PublishWill(MqttWillMessage will) => _broker.PublishWill(_session?.ClientId, will);

    private bool CanPublish(ReadOnlySpan<char> topic) => _identity!.Permissions.CanPublish(topic);
}
