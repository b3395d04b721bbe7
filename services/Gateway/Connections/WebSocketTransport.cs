using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Gateway.Connections;

/// <summary>
/// MQTT over WebSocket (chapter 6): MQTT bytes travel in binary frames [MQTT-6.0.0-1], a packet may
/// span frames and a frame may hold several packets [MQTT-6.0.0-2], so the frames are joined into
/// one byte stream and exposed as the same duplex pipe a TCP connection offers.
/// </summary>
public sealed class WebSocketTransport : IMqttTransport, IAsyncDisposable
{
    private readonly WebSocket _socket;
    private readonly Pipe _input = new(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024, useSynchronizationContext: false));
    private readonly CancellationTokenSource _aborted = new();
    private readonly Task _receiving;
    private readonly Task _sending;

    public WebSocketTransport(WebSocket socket, EndPoint? remoteEndPoint, X509Certificate2? clientCertificate)
    {
        _socket = socket;
        RemoteEndPoint = remoteEndPoint;
        ClientCertificate = clientCertificate;
        Pipe = new DuplexPipe(_input.Reader, _output.Writer);
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    public IDuplexPipe Pipe { get; }

    public string Listener => "ws";

    public EndPoint? RemoteEndPoint { get; }

    public X509Certificate2? ClientCertificate { get; }

    public void Abort()
    {
        _aborted.Cancel();
        _socket.Abort();
    }

    private async Task ReceiveAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _input.Writer.GetMemory(4096);
                var result = await _socket.ReceiveAsync(memory, _aborted.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.MessageType != WebSocketMessageType.Binary)
                {
                    // [MQTT-6.0.0-1]: a text frame means the peer is not speaking MQTT over WebSocket.
                    error = new InvalidDataException("MQTT over WebSocket requires binary frames.");
                    break;
                }

                _input.Writer.Advance(result.Count);
                var flush = await _input.Writer.FlushAsync(_aborted.Token);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer went away; the MQTT layer sees the end of input.
        }

        await _input.Writer.CompleteAsync(error);
    }

    private async Task SendAsync()
    {
        try
        {
            while (true)
            {
                var result = await _output.Reader.ReadAsync(_aborted.Token);
                foreach (var segment in result.Buffer)
                {
                    await _socket.SendAsync(segment, WebSocketMessageType.Binary, endOfMessage: true, _aborted.Token);
                }

                _output.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // Nothing more can be sent to a peer that is gone.
        }

        await _output.Reader.CompleteAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _output.Writer.CompleteAsync();
        await Task.WhenAny(Task.WhenAll(_receiving, _sending), Task.Delay(TimeSpan.FromSeconds(5)));
        Abort();
        _aborted.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
