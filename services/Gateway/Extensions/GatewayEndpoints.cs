using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Platform.Gateway.Extensions;

/// <summary>
/// The listeners as bound. Kestrel writes the real port into the listen options once it has bound
/// port 0, so tests and AppHost can ask a gateway started on free ports where it listens.
/// </summary>
public sealed class GatewayEndpoints
{
    private readonly List<ListenOptions> _http = [];

    internal ListenOptions? MqttTcp { get; set; }

    internal ListenOptions? MqttTls { get; set; }

    internal void AddHttp(ListenOptions options) => _http.Add(options);

    public int? MqttTcpPort => MqttTcp?.IPEndPoint?.Port;

    public int? MqttTlsPort => MqttTls?.IPEndPoint?.Port;

    public IReadOnlyList<Uri> Http => _http
        .Where(o => o.IPEndPoint is not null)
        .Select(o => new Uri($"http://{Loopback(o.IPEndPoint!)}:{o.IPEndPoint!.Port}"))
        .ToList();

    private static string Loopback(IPEndPoint endPoint) =>
        endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(endPoint.Address)
            ? "127.0.0.1"
            : endPoint.Address.ToString();
}
