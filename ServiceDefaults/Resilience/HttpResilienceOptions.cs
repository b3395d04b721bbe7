namespace Platform.ServiceDefaults.Resilience;

/// <summary>
/// The standard HttpClient resilience pipeline, outermost first: total timeout, retry, circuit
/// breaker, per-attempt timeout. Defaults match Microsoft.Extensions.Http.Resilience's standard
/// handler so services behave as they would under Aspire. Bound from configuration section
/// <c>HttpResilience</c>.
/// </summary>
public sealed class HttpResilienceOptions
{
    public const string SectionName = "HttpResilience";

    /// <summary>Upper bound for the whole call including every retry.</summary>
    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound for one attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt; only idempotent methods are retried.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Base of the exponential, jittered backoff between attempts.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Share of failed calls within <see cref="CircuitBreakerSamplingDuration"/> that opens the circuit.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.1;

    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Calls needed within the sampling window before the ratio is judged.</summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 100;

    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}
