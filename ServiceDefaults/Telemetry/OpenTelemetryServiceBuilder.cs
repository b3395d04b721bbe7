using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace Platform.ServiceDefaults.Telemetry;

/// <summary>
/// The SDK's own <c>WithTracing</c>/<c>WithMetrics</c>/<c>WithLogging</c>/<c>UseOtlpExporter</c>
/// extensions work on any <see cref="IOpenTelemetryBuilder"/>; this is the whole of what
/// OpenTelemetry.Extensions.Hosting contributes besides starting the providers, which
/// <see cref="TelemetryProviderLifetime"/> does.
/// </summary>
internal sealed class OpenTelemetryServiceBuilder(IServiceCollection services) : IOpenTelemetryBuilder
{
    public IServiceCollection Services { get; } = services;
}
