using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Tests;

/// <summary>
/// A bare MQTT connection for protocol-level tests: sends exactly the packets (or bytes) a test
/// asks for and hands back each packet the server sends, with nothing automatic in between.
/// </summary>
public sealed class RawMqttConnection : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly MqttPacketDecoder _decoder = new(isServer: false);
    private ReadOnlySequence<byte> _pending;
    private bool _hasPending;

    private RawMqttConnection(Socket socket, MqttProtocolVersion version)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(_stream);
        Version = version;
        _decoder.ProtocolVersion = version;
    }

    public MqttProtocolVersion Version { get; }

    public static async Task<RawMqttConnection> OpenAsync(int port, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RawMqttConnection(socket, version);
    }

    /// <summary>Opens a connection and completes the CONNECT/CONNACK handshake.</summary>
    public static async Task<(RawMqttConnection Connection, ConnAckPacket ConnAck)> ConnectAsync(int port, ConnectPacket connect)
    {
        var connection = await OpenAsync(port, connect.ProtocolVersion);
        await connection.SendAsync(connect);
        var connAck = await connection.ReceiveAsync<ConnAckPacket>();
        return (connection, connAck);
    }

    public async Task SendAsync(MqttPacket packet)
    {
        var buffer = new ArrayBufferWriter<byte>();
        MqttPacketEncoder.Write(buffer, packet, Version);
        await SendBytesAsync(buffer.WrittenMemory);
    }

    public async Task SendBytesAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes);

    public async Task<MqttPacket> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            if (_hasPending)
            {
                var buffer = _pending;
                if (_decoder.TryReadFrame(ref buffer, out var frame))
                {
                    var packet = _decoder.Decode(frame);
                    _input.AdvanceTo(buffer.Start);
                    _hasPending = false;
                    return packet;
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                _hasPending = false;
            }

            var result = await _input.ReadAsync(cancellation.Token);
            if (result.IsCompleted && result.Buffer.IsEmpty)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            _pending = result.Buffer;
            _hasPending = true;
            if (result.IsCompleted)
            {
                var buffer = _pending;
                if (!_decoder.TryReadFrame(ref buffer, out var frame))
                {
                    throw new EndOfStreamException("The server closed the connection inside a packet.");
                }

                var packet = _decoder.Decode(frame);
                _input.AdvanceTo(buffer.Start);
                _hasPending = false;
                return packet;
            }
        }
    }

    public async Task<T> ReceiveAsync<T>(TimeSpan? timeout = null)
        where T : MqttPacket
    {
        var packet = await ReceiveAsync(timeout);
        return packet as T ?? throw new InvalidOperationException($"Expected {typeof(T).Name}, received {packet}.");
    }

    /// <summary>True when the server closes the connection within <paramref name="timeout"/> (after any packets it sends first, which are returned).</summary>
    public async Task<(bool Closed, List<MqttPacket> Before)> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        var before = new List<MqttPacket>();
        try
        {
            while (true)
            {
                before.Add(await ReceiveAsync(timeout ?? DefaultTimeout));
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or SocketException)
        {
            return (true, before);
        }
        catch (OperationCanceledException)
        {
            return (false, before);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync();
        await _stream.DisposeAsync();
        _decoder.Dispose();
    }
}
