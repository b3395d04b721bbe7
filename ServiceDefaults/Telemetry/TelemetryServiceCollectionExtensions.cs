using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Platform.ServiceDefaults.Telemetry;

internal static class TelemetryServiceCollectionExtensions
{
    // ASP.NET Core 10 keeps the OpenTelemetry HTTP semantic-convention tags off its server Activity
    // unless this switch is false (the instrumentation package used to add them).
    private const string SuppressAspNetCoreActivityDataSwitch =
        "Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData";

    public static IServiceCollection AddPlatformTelemetry(
        this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        if (!AppContext.TryGetSwitch(SuppressAspNetCoreActivityDataSwitch, out _))
        {
            AppContext.SetSwitch(SuppressAspNetCoreActivityDataSwitch, false);
        }

        var telemetry = new OpenTelemetryServiceBuilder(services);

        // The SDK's resource detectors read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES from
        // IConfiguration; we only supply a better fallback than "unknown_service".
        telemetry.ConfigureResource(resource =>
        {
            if (!OtelEnvironment.HasConfiguredServiceName(configuration))
            {
                resource.AddService(environment.ApplicationName);
            }
        });

        telemetry
            .WithTracing(tracing => tracing.AddSource(TelemetrySources.ActivitySources))
            .WithMetrics(metrics => metrics.AddMeter(TelemetrySources.Meters))
            .WithLogging(configureBuilder: null, configureOptions: logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            });

        // Export only when an endpoint is configured (AppHost sets it when a collector or
        // dashboard is present). Protocol, headers and timeouts come from the standard
        // OTEL_EXPORTER_OTLP_* keys, read from configuration by the exporter.
        if (OtelEnvironment.HasOtlpEndpoint(configuration))
        {
            telemetry.UseOtlpExporter();
        }

        services.AddHostedService<TelemetryProviderLifetime>();
        services.AddTransient<IStartupFilter, HttpServerSpanEnricher>();
        return services;
    }
}
