using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Platform.Gateway.Configuration;
using Platform.Gateway.Connections;
using Platform.Gateway.Extensions;
using Platform.Gateway.Management;
using Platform.Gateway.Routing;
using Platform.Gateway.Security;
using Platform.Gateway.Sessions;
using Platform.Gateway.Telemetry;

namespace Microsoft.Extensions.Hosting;

public static class GatewayExtensions
{
    /// <summary>Default HTTP endpoint (health, management API, MQTT over WebSocket) when no urls are configured.</summary>
    public const string DefaultHttpUrl = "http://localhost:18083";

    /// <summary>Registers the broker and binds its listeners (MQTT over TCP and TLS, HTTP).</summary>
    public static WebApplicationBuilder AddMqttGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName);
        builder.Services.AddSingleton<GatewayTelemetry>();
        builder.Services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        builder.Services.TryAddSingleton<IMqttAuthenticator, ConfiguredAuthenticator>();
        builder.Services.AddSingleton<MqttBroker>();
        builder.Services.AddSingleton<MqttConnectionHandler>();
        builder.Services.AddSingleton<GatewayEndpoints>();
        builder.Services.AddSingleton<ConnectionSupervisor>();
        builder.Services.AddHostedService(static services => services.GetRequiredService<ConnectionSupervisor>());
        builder.Services.AddHealthChecks().AddCheck<MqttListenerHealthCheck>("mqtt");

        // Connect storms are normal for a car fleet (every car after a network outage): a deep
        // accept queue keeps the kernel from refusing them while the broker catches up.
        builder.WebHost.UseSockets(sockets => sockets.Backlog = 4096);
        builder.WebHost.ConfigureKestrel((context, kestrel) => ConfigureListeners(context.Configuration, kestrel));
        return builder;
    }

    /// <summary>Maps MQTT over WebSocket and the management API.</summary>
    public static WebApplication MapMqttGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var handler = app.Services.GetRequiredService<MqttConnectionHandler>();
        app.UseWebSockets();
        app.Map(options.WebSocketPath, handler.OnWebSocketRequestAsync);
        app.MapManagementApi();
        return app;
    }

    private static void ConfigureListeners(IConfiguration configuration, KestrelServerOptions kestrel)
    {
        var options = configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
        var endpoints = kestrel.ApplicationServices.GetRequiredService<GatewayEndpoints>();
        var handler = kestrel.ApplicationServices.GetRequiredService<MqttConnectionHandler>();

        // Endpoints configured in code replace ASPNETCORE_URLS, so the HTTP ones are bound here too.
        var urls = configuration["urls"] ?? configuration["ASPNETCORE_URLS"] ?? DefaultHttpUrl;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            Bind(kestrel, address.Host, address.Port, listen =>
            {
                if (address.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
                {
                    listen.UseHttps();
                }

                endpoints.AddHttp(listen);
            });
        }

        if (options.TcpPort >= 0)
        {
            Bind(kestrel, options.BindAddress, options.TcpPort, listen =>
            {
                listen.Run(connection => handler.OnConnectedAsync(connection, "tcp"));
                endpoints.MqttTcp = listen;
            });
        }

        if (options.TlsPort >= 0 && options.Tls.CertificatePath is { } certificatePath)
        {
            var certificate = LoadCertificate(certificatePath, options.Tls);
            var clientCa = options.Tls.ClientCaPath is { } caPath ? X509CertificateLoader.LoadCertificateFromFile(caPath) : null;
            Bind(kestrel, options.BindAddress, options.TlsPort, listen =>
            {
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = options.Tls.RequireClientCertificate ? ClientCertificateMode.RequireCertificate
                        : options.Tls.AllowClientCertificates ? ClientCertificateMode.AllowCertificate
                        : ClientCertificateMode.NoCertificate,
                    ClientCertificateValidation = clientCa is null ? null : (client, chain, errors) => ChainsTo(client, clientCa),
                });
                listen.Run(connection => handler.OnConnectedAsync(connection, "tls"));
                endpoints.MqttTls = listen;
            });
        }
    }

    private static void Bind(KestrelServerOptions kestrel, string host, int port, Action<ListenOptions> configure)
    {
        switch (host)
        {
            case "*" or "+" or "0.0.0.0" or "[::]" or "::":
                kestrel.ListenAnyIP(port, configure);
                break;
            case "localhost" when port != 0:
                kestrel.ListenLocalhost(port, configure);
                break;
            case "localhost":
                // Dynamic ports cannot be bound to "localhost" (two addresses); use IPv4 loopback.
                kestrel.Listen(IPAddress.Loopback, 0, configure);
                break;
            default:
                kestrel.Listen(IPAddress.Parse(host.Trim('[', ']')), port, configure);
                break;
        }
    }

    private static X509Certificate2 LoadCertificate(string path, TlsOptions tls)
    {
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword);
        }

        return X509Certificate2.CreateFromPemFile(path, tls.KeyPath);
    }

    private static bool ChainsTo(X509Certificate2 client, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(client);
    }

    private sealed class MqttListenerHealthCheck(GatewayEndpoints endpoints, IOptions<GatewayOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(options.Value.TcpPort < 0 || endpoints.MqttTcpPort is not null
                ? HealthCheckResult.Healthy($"MQTT on port {endpoints.MqttTcpPort}")
                : HealthCheckResult.Unhealthy("MQTT listener not bound"));
    }
}
