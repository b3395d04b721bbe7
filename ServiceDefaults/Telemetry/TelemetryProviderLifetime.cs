using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Platform.ServiceDefaults.Telemetry;

/// <summary>
/// Starts the tracer and meter providers with the host and flushes them when it stops.
/// </summary>
/// <remarks>
/// The host constructs every hosted service before starting any of them, so resolving the
/// providers here subscribes their listeners before Kestrel accepts the first request. The
/// providers are container singletons: disposing the host shuts them down, which exports what is
/// left; <see cref="StopAsync"/> flushes earlier so a host that is stopped but not yet disposed
/// has already delivered its telemetry.
/// </remarks>
internal sealed class TelemetryProviderLifetime(IServiceProvider services) : IHostedService
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);

    private readonly TracerProvider? _tracerProvider = services.GetService<TracerProvider>();
    private readonly MeterProvider? _meterProvider = services.GetService<MeterProvider>();

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        var timeoutMs = (int)FlushTimeout.TotalMilliseconds;
        _tracerProvider?.ForceFlush(timeoutMs);
        _meterProvider?.ForceFlush(timeoutMs);
        return Task.CompletedTask;
    }
}
