using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;

namespace Platform.ServiceDefaults.ServiceDiscovery;

/// <summary>
/// Resolves logical service addresses (<c>http://auth</c>) to the URLs an orchestrator published
/// in Aspire's configuration format: <c>services__{service}__{endpoint}__{index}=URL</c>, i.e. the
/// configuration keys <c>services:{service}:{endpoint}:{index}</c>.
/// </summary>
/// <remarks>
/// Rules, following Aspire's configuration-based resolver:
/// <list type="bullet">
/// <item><c>http://auth</c> uses the endpoint named after the scheme (<c>services:auth:http</c>).</item>
/// <item><c>https+http://auth</c> prefers <c>https</c> and falls back to <c>http</c>.</item>
/// <item><c>http://_grpc.auth</c> names the endpoint explicitly (<c>services:auth:grpc</c>).</item>
/// <item>Several indexes are replicas, taken in turn.</item>
/// <item>A host with no <c>services:{host}</c> section is not a logical service and is left alone.</item>
/// </list>
/// </remarks>
public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    private const string SectionName = "services";

    private readonly ConcurrentDictionary<string, StrongBox<int>> _nextReplica = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Resolves <paramref name="uri"/> when its host names a configured service.</summary>
    /// <exception cref="InvalidOperationException">The service is configured but has no endpoint for the scheme.</exception>
    public bool TryResolve(Uri uri, [NotNullWhen(true)] out Uri? resolved)
    {
        ArgumentNullException.ThrowIfNull(uri);
        resolved = null;
        if (!uri.IsAbsoluteUri)
        {
            return false;
        }

        var (serviceName, endpointName) = SplitHost(uri.Host);
        var service = configuration.GetSection(SectionName).GetSection(serviceName);
        if (!service.Exists())
        {
            return false;
        }

        var schemes = uri.Scheme.Split('+');
        var candidates = endpointName is null ? schemes : [endpointName];
        foreach (var candidate in candidates)
        {
            var endpoints = ReadEndpoints(service.GetSection(candidate), defaultScheme: schemes[0]);
            if (endpoints.Count == 0)
            {
                continue;
            }

            var target = endpoints.Count == 1 ? endpoints[0] : endpoints[NextReplica(serviceName, candidate, endpoints.Count)];
            resolved = Rewrite(uri, target);
            return true;
        }

        throw new InvalidOperationException(
            $"Service '{serviceName}' is configured but has no '{string.Join("' or '", candidates)}' endpoint " +
            $"(expected configuration key services__{serviceName}__{candidates[0]}__0).");
    }

    /// <summary>Resolves <paramref name="uri"/>, returning it unchanged when it is not a logical service.</summary>
    public Uri Resolve(Uri uri) => TryResolve(uri, out var resolved) ? resolved : uri;

    /// <summary>All configured URLs of one endpoint of a service (empty when none).</summary>
    public IReadOnlyList<Uri> GetEndpoints(string serviceName, string endpointName) =>
        ReadEndpoints(configuration.GetSection(SectionName).GetSection(serviceName).GetSection(endpointName), endpointName);

    private static (string Service, string? Endpoint) SplitHost(string host)
    {
        if (host.Length > 1 && host[0] == '_')
        {
            var dot = host.IndexOf('.', StringComparison.Ordinal);
            if (dot > 1 && dot < host.Length - 1)
            {
                return (host[(dot + 1)..], host[1..dot]);
            }
        }

        return (host, null);
    }

    private static List<Uri> ReadEndpoints(IConfigurationSection endpoint, string defaultScheme)
    {
        var result = new List<Uri>();
        if (endpoint.Value is { Length: > 0 } single)
        {
            AddEndpoint(result, single, defaultScheme, endpoint.Path);
        }

        foreach (var replica in endpoint.GetChildren())
        {
            if (replica.Value is { Length: > 0 } value)
            {
                AddEndpoint(result, value, defaultScheme, replica.Path);
            }
        }

        return result;
    }

    private static void AddEndpoint(List<Uri> result, string value, string defaultScheme, string path)
    {
        // Aspire publishes full URLs; "host:port" is accepted too and takes the request's scheme.
        var text = value.Contains("://", StringComparison.Ordinal) ? value : $"{defaultScheme}://{value}";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new InvalidOperationException($"Configuration '{path}' is not a valid endpoint URL: '{value}'.");
        }

        result.Add(uri);
    }

    private int NextReplica(string service, string endpoint, int count)
    {
        var counter = _nextReplica.GetOrAdd(service + "/" + endpoint, static _ => new StrongBox<int>(-1));
        return (int)((uint)Interlocked.Increment(ref counter.Value) % (uint)count);
    }

    private static Uri Rewrite(Uri original, Uri target)
    {
        var basePath = target.AbsolutePath.TrimEnd('/');
        var builder = new UriBuilder(original)
        {
            Scheme = target.Scheme,
            Host = target.Host,
            Port = target.Port,
            Path = basePath + original.AbsolutePath,
        };
        return builder.Uri;
    }
}
