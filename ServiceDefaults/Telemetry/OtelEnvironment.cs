using Microsoft.Extensions.Configuration;

namespace Platform.ServiceDefaults.Telemetry;

/// <summary>The standard OpenTelemetry environment variables, read through configuration.</summary>
public static class OtelEnvironment
{
    public const string ServiceName = "OTEL_SERVICE_NAME";
    public const string ResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES";
    public const string ExporterEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ExporterProtocol = "OTEL_EXPORTER_OTLP_PROTOCOL";

    public static bool HasOtlpEndpoint(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[ExporterEndpoint]);

    /// <summary>
    /// True when OTEL_SERVICE_NAME is set, or OTEL_RESOURCE_ATTRIBUTES carries <c>service.name</c>
    /// (the specification gives the former precedence; both beat any default).
    /// </summary>
    public static bool HasConfiguredServiceName(IConfiguration configuration)
    {
        if (!string.IsNullOrWhiteSpace(configuration[ServiceName]))
        {
            return true;
        }

        var attributes = configuration[ResourceAttributes];
        if (string.IsNullOrEmpty(attributes))
        {
            return false;
        }

        foreach (var range in attributes.AsSpan().Split(','))
        {
            var pair = attributes.AsSpan()[range];
            var equals = pair.IndexOf('=');
            if (equals > 0 && pair[..equals].Trim().SequenceEqual("service.name"))
            {
                return true;
            }
        }

        return false;
    }
}
