using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Platform.ServiceDefaults.Tests;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Health_and_alive_report_healthy_for_a_fresh_service()
    {
        await using var app = await TestApp.StartAsync();
        using var http = new HttpClient { BaseAddress = app.Address };

        foreach (var path in new[] { "/health", "/alive" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
            Assert.Equal("Healthy", report.RootElement.GetProperty("checks").GetProperty("self").GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task A_failing_dependency_fails_health_but_not_liveness()
    {
        await using var app = await TestApp.StartAsync(configureBuilder: builder =>
            builder.Services.AddHealthChecks().AddCheck("database", () => HealthCheckResult.Unhealthy("connection refused")));
        using var http = new HttpClient { BaseAddress = app.Address };

        using var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var report = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        var database = report.RootElement.GetProperty("checks").GetProperty("database");
        Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
        Assert.Equal("connection refused", database.GetProperty("description").GetString());

        // A process whose database is down must not be restarted for it: liveness stays green.
        using var alive = await http.GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.DoesNotContain("database", await alive.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
