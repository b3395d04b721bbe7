using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Platform.Mqtt.Codec;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.MqttLoad;

/// <summary>
/// One MQTT connection of the load tool: a non-blocking socket with a send buffer that packets are
/// encoded straight into and a receive buffer the codec reads frames from. No allocation per
/// message: buffers grow only when a burst outgrows them.
/// </summary>
public sealed class LoadConnection : IBufferWriter<byte>, IDisposable
{
    private byte[] _send = new byte[64 * 1024];
    private int _sendStart;
    private int _sendEnd;
    private byte[] _receive = new byte[256 * 1024];
    private int _received;

    public LoadConnection(int id, Socket socket, MqttProtocolVersion version)
    {
        Id = id;
        Socket = socket;
        Decoder = new MqttPacketDecoder(isServer: false) { ProtocolVersion = version };
        Version = version;
    }

    public int Id { get; }

    public Socket Socket { get; }

    public MqttPacketDecoder Decoder { get; }

    public MqttProtocolVersion Version { get; }

    public int PendingSendBytes => _sendEnd - _sendStart;

    /// <summary>Whether epoll currently watches this socket for writability.</summary>
    public bool WatchingWrites { get; set; }

    /// <summary>QoS 1/2 messages sent and not yet acknowledged (publishers).</summary>
    public int Inflight { get; set; }

    public ushort NextPacketId()
    {
        _packetId = _packetId == ushort.MaxValue ? (ushort)1 : (ushort)(_packetId + 1);
        return _packetId;
    }

    private ushort _packetId;

    /// <summary>Connects (blocking), performs CONNECT/CONNACK and optional SUBSCRIBE/SUBACK, then switches to non-blocking.</summary>
    public static LoadConnection Open(int id, IPEndPoint server, IPAddress? source, ConnectPacket connect, SubscribePacket? subscribe)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }

            socket.Connect(server);
            var connection = new LoadConnection(id, socket, connect.ProtocolVersion);
            connection.Send(connect);
            var connAck = connection.ReceiveBlocking() as ConnAckPacket ?? throw new InvalidOperationException("expected CONNACK");
            if (connAck.ReasonCode != ReasonCode.Success)
            {
                throw new InvalidOperationException($"CONNECT refused: {connAck.ReasonCode}");
            }

            if (subscribe is not null)
            {
                connection.Send(subscribe);
                var subAck = connection.ReceiveBlocking() as SubAckPacket ?? throw new InvalidOperationException("expected SUBACK");
                if (subAck.ReasonCodes.Any(c => c.IsFailure()))
                {
                    throw new InvalidOperationException($"SUBSCRIBE refused: {string.Join(",", subAck.ReasonCodes)}");
                }
            }

            socket.Blocking = false;
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Send(MqttPacket packet)
    {
        MqttPacketEncoder.Write(this, packet, Version);
        while (PendingSendBytes > 0)
        {
            _sendStart += Socket.Send(_send, _sendStart, PendingSendBytes, SocketFlags.None);
        }

        _sendStart = _sendEnd = 0;
    }

    private MqttPacket ReceiveBlocking()
    {
        while (true)
        {
            var sequence = new ReadOnlySequence<byte>(_receive, 0, _received);
            if (Decoder.TryReadFrame(ref sequence, out var frame))
            {
                var packet = Decoder.Decode(frame);
                Consume(_received - (int)sequence.Length);
                return packet;
            }

            var read = Socket.Receive(_receive, _received, _receive.Length - _received, SocketFlags.None);
            if (read == 0)
            {
                throw new InvalidOperationException("the broker closed the connection");
            }

            _received += read;
        }
    }

    /// <summary>Writes what is buffered without blocking; true when everything went out.</summary>
    public bool TryFlush()
    {
        while (_sendEnd > _sendStart)
        {
            var sent = Socket.Send(_send, _sendStart, _sendEnd - _sendStart, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return false;
            }

            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            _sendStart += sent;
        }

        _sendStart = _sendEnd = 0;
        return true;
    }

    /// <summary>Reads what the socket has without blocking; false when the peer closed it.</summary>
    public bool TryReceive()
    {
        while (true)
        {
            if (_received == _receive.Length)
            {
                Array.Resize(ref _receive, _receive.Length * 2);
            }

            var read = Socket.Receive(_receive, _received, _receive.Length - _received, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return true;
            }

            if (error != SocketError.Success || read == 0)
            {
                return false;
            }

            _received += read;
            if (_received < _receive.Length)
            {
                return true;
            }
        }
    }

    /// <summary>The bytes received and not yet consumed.</summary>
    public ReadOnlySequence<byte> Received => new(_receive, 0, _received);

    /// <summary>Drops the first <paramref name="count"/> received bytes (the packets handled).</summary>
    public void Consume(int count)
    {
        if (count == 0)
        {
            return;
        }

        var rest = _received - count;
        if (rest > 0)
        {
            Buffer.BlockCopy(_receive, count, _receive, 0, rest);
        }

        _received = rest;
    }

    public void Advance(int count) => _sendEnd += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _send.AsMemory(_sendEnd);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _send.AsSpan(_sendEnd);
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 16);
        if (_send.Length - _sendEnd >= sizeHint)
        {
            return;
        }

        if (_sendStart > 0)
        {
            Buffer.BlockCopy(_send, _sendStart, _send, 0, _sendEnd - _sendStart);
            _sendEnd -= _sendStart;
            _sendStart = 0;
        }

        if (_send.Length - _sendEnd < sizeHint)
        {
            Array.Resize(ref _send, Math.Max(_send.Length * 2, _sendEnd + sizeHint));
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        Decoder.Dispose();
    }
}
