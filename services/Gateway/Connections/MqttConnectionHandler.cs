using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Gateway.Configuration;
using Platform.Gateway.Routing;

namespace Platform.Gateway.Connections;

/// <summary>Accepts MQTT connections from Kestrel's TCP and TLS listeners and from the WebSocket endpoint.</summary>
public sealed class MqttConnectionHandler(MqttBroker broker, IOptions<GatewayOptions> options, ILogger<MqttConnection> logger)
{
    private readonly Dictionary<string, SharedTokenBucket> _connectRates = new()
    {
        ["tcp"] = new SharedTokenBucket(options.Value.Limits.ConnectionRatePerSecond),
        ["tls"] = new SharedTokenBucket(options.Value.Limits.ConnectionRatePerSecond),
        ["ws"] = new SharedTokenBucket(options.Value.Limits.ConnectionRatePerSecond),
    };

    /// <summary>For Kestrel listeners (<c>listenOptions.Run(...)</c>).</summary>
    public Task OnConnectedAsync(ConnectionContext connection, string listener)
    {
        var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        var transport = new KestrelTransport(connection, listener, certificate);
        return new MqttConnection(broker, transport, _connectRates[listener], logger).RunAsync(connection.ConnectionClosed);
    }

    /// <summary>
    /// MQTT over WebSocket: the client must offer the "mqtt" subprotocol and the server selects it
    /// [MQTT-6.0.0-3], [MQTT-6.0.0-4].
    /// </summary>
    public async Task OnWebSocketRequestAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "MQTT over WebSocket needs a WebSocket upgrade request.").ExecuteAsync(context);
            return;
        }

        if (!context.WebSockets.WebSocketRequestedProtocols.Contains("mqtt", StringComparer.OrdinalIgnoreCase))
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The WebSocket subprotocol 'mqtt' is required.").ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync("mqtt");
        await using var transport = new WebSocketTransport(socket, new System.Net.IPEndPoint(context.Connection.RemoteIpAddress ?? System.Net.IPAddress.None, context.Connection.RemotePort), context.Connection.ClientCertificate);
        await new MqttConnection(broker, transport, _connectRates["ws"], logger).RunAsync(context.RequestAborted);
    }
}
