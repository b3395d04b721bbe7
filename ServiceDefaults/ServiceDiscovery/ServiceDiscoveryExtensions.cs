using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.ServiceDefaults.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

public static class ServiceDiscoveryExtensions
{
    /// <summary>Registers <see cref="ServiceEndpointResolver"/> for clients that are not HttpClient (MQTT, Kafka, raw sockets).</summary>
    public static IServiceCollection AddServiceDiscovery(this IServiceCollection services)
    {
        services.TryAddSingleton<ServiceEndpointResolver>();
        services.TryAddTransient<ServiceDiscoveryHandler>();
        return services;
    }

    /// <summary>Lets this HttpClient address services by name (<c>http://auth</c>).</summary>
    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddServiceDiscovery();
        builder.AddHttpMessageHandler<ServiceDiscoveryHandler>();
        return builder;
    }
}
