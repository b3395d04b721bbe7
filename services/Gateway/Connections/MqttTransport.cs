using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;

namespace Platform.Gateway.Connections;

/// <summary>The network side of an MQTT connection: a duplex pipe plus what is known about the peer.</summary>
public interface IMqttTransport
{
    IDuplexPipe Pipe { get; }

    /// <summary>tcp, tls or ws (for limits, metrics and logs).</summary>
    string Listener { get; }

    EndPoint? RemoteEndPoint { get; }

    X509Certificate2? ClientCertificate { get; }

    /// <summary>Closes the network connection without waiting for pending output.</summary>
    void Abort();
}

/// <summary>A TCP or TLS connection accepted by Kestrel.</summary>
public sealed class KestrelTransport(ConnectionContext connection, string listener, X509Certificate2? clientCertificate) : IMqttTransport
{
    public IDuplexPipe Pipe => connection.Transport;

    public string Listener { get; } = listener;

    public EndPoint? RemoteEndPoint => connection.RemoteEndPoint;

    public X509Certificate2? ClientCertificate { get; } = clientCertificate;

    public void Abort() => connection.Abort(new ConnectionAbortedException("MQTT connection closed by the broker."));
}
