namespace Platform.ServiceDefaults.Health;

public static class HealthTags
{
    /// <summary>Checks with this tag also answer <c>/alive</c> (liveness); the rest only <c>/health</c>.</summary>
    public const string Live = "live";
}
