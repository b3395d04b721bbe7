using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Gateway.Connections;
using Platform.Gateway.Extensions;
using Platform.Gateway.Routing;

namespace Platform.Gateway.Tests;

/// <summary>
/// A gateway started in the test process on free loopback ports, composed exactly as
/// services/Gateway/Program.cs composes it. Tests talk to it over real sockets.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayServer(WebApplication app)
    {
        _app = app;
        var endpoints = app.Services.GetRequiredService<GatewayEndpoints>();
        MqttPort = endpoints.MqttTcpPort ?? throw new InvalidOperationException("MQTT listener not bound");
        TlsPort = endpoints.MqttTlsPort;
        HttpAddress = endpoints.Http[0];
    }

    public int MqttPort { get; }

    public int? TlsPort { get; }

    public Uri HttpAddress { get; }

    public Uri WebSocketAddress => new($"ws://{HttpAddress.Authority}/mqtt");

    public MqttBroker Broker => _app.Services.GetRequiredService<MqttBroker>();

    public IServiceProvider Services => _app.Services;

    /// <summary>Runs the supervisor's sweep now (keep-alive, will delay, session expiry) instead of waiting for its timer.</summary>
    public void Sweep() => _app.Services.GetRequiredService<ConnectionSupervisor>().Sweep();

    public static async Task<GatewayServer> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = "Platform.Gateway", EnvironmentName = "Testing" });
        var defaults = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Mqtt:TcpPort"] = "0",
            ["Mqtt:TlsPort"] = "-1",
            ["Mqtt:BindAddress"] = "127.0.0.1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            defaults[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(defaults);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.AddMqttGateway();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapMqttGateway();
        await app.StartAsync();
        return new GatewayServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
