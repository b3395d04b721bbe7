using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Polly;

namespace Platform.ServiceDefaults.Resilience;

/// <summary>One pipeline (and so one circuit breaker) per named client, shared by all its handlers.</summary>
internal sealed class HttpResiliencePipelines(IOptions<HttpResilienceOptions> options)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _pipelines = new(StringComparer.Ordinal);

    public ResiliencePipeline<HttpResponseMessage> Get(string clientName) =>
        _pipelines.GetOrAdd(clientName, static (_, settings) => HttpResiliencePipeline.Build(settings), options.Value);
}
