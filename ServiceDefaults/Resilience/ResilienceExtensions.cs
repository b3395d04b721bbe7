using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Platform.ServiceDefaults.Resilience;

namespace Microsoft.Extensions.DependencyInjection;

public static class ResilienceExtensions
{
    /// <summary>
    /// Adds the standard resilience pipeline (<see cref="HttpResilienceOptions"/>, configuration
    /// section <c>HttpResilience</c>) to this client, or to every client when called inside
    /// <c>ConfigureHttpClientDefaults</c>. Each named client gets its own pipeline, so a failing
    /// dependency opens only its own circuit.
    /// </summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<HttpResilienceOptions>().BindConfiguration(HttpResilienceOptions.SectionName);
        builder.Services.TryAddSingleton<HttpResiliencePipelines>();

        // The handler builder knows the client's name even for the defaults (builder.Name is null there).
        static void AddHandler(HttpMessageHandlerBuilder handlers) => handlers.AdditionalHandlers.Add(
            new ResilienceHandler(handlers.Services.GetRequiredService<HttpResiliencePipelines>().Get(handlers.Name ?? "")));

        if (builder.Name is null)
        {
            builder.Services.ConfigureAll<HttpClientFactoryOptions>(options => options.HttpMessageHandlerBuilderActions.Add(AddHandler));
        }
        else
        {
            builder.Services.Configure<HttpClientFactoryOptions>(builder.Name, options => options.HttpMessageHandlerBuilderActions.Add(AddHandler));
        }

        return builder;
    }
}
