
namespace Platform.ServiceDefaults.ServiceDiscovery;

/// <summary>
/// Rewrites requests addressed to a logical service (<c>http://auth/...</c>) to a configured
/// endpoint. It sits inside the resilience handler, so every attempt resolves again from the
/// original address and may reach another replica.
/// </summary>
internal sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    private static readonly HttpRequestOptionsKey<Uri> OriginalUri = new("Platform.ServiceDiscovery.OriginalUri");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(OriginalUri, out var address))
        {
            address = request.RequestUri;
            if (address is not null)
            {
                request.Options.Set(OriginalUri, address);
            }
        }

        if (address is not null && resolver.TryResolve(address, out var resolved))
        {
            request.RequestUri = resolved;
        }

        return base.SendAsync(request, cancellationToken);
    }
}
