namespace Platform.ServiceDefaults.Telemetry;

/// <summary>
/// The ActivitySources and Meters collected by default. The instrumentation packages
/// (OpenTelemetry.Instrumentation.*) are not available, so we listen to what the framework itself
/// publishes and to every source of our own under the <c>Platform.</c> prefix.
/// </summary>
public static class TelemetrySources
{
    /// <summary>Every platform component names its ActivitySource and Meter with this prefix.</summary>
    public const string PlatformPrefix = "Platform.";

    internal static readonly string[] ActivitySources =
    [
        "Microsoft.AspNetCore",   // the HTTP server span of each request (Hosting)
        "System.Net.Http",        // HttpClient client spans (.NET 9+)
        PlatformPrefix + "*",
    ];

    internal static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.*", // Hosting, Server.Kestrel, Routing, Diagnostics, MemoryPool, ...
        "System.Net.Http",
        "System.Net.NameResolution",
        "System.Runtime",         // GC, thread pool, CPU, working set (.NET 9+)
        PlatformPrefix + "*",
    ];
}
