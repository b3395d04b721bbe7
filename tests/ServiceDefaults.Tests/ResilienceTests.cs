using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.ServiceDefaults.Tests;

public sealed class ResilienceTests
{
    private static readonly Dictionary<string, string?> FastRetries = new()
    {
        ["HttpResilience:RetryBaseDelay"] = "00:00:00.010",
        ["HttpResilience:MaxRetryAttempts"] = "3",
    };

    /// <summary>A real server that fails the first <paramref name="failures"/> calls of each path with 503.</summary>
    private static Task<TestApp> StartFlakyServerAsync(int failures, Dictionary<string, int> calls) =>
        TestApp.StartAsync(map: app => app.Map("/flaky/{name}", (HttpContext context, string name) =>
        {
            int count;
            lock (calls)
            {
                count = calls[name] = calls.GetValueOrDefault(name) + 1;
            }

            return count <= failures ? Results.StatusCode(503) : Results.Text($"{context.Request.Method} ok after {count}");
        }));

    [Fact]
    public async Task Idempotent_requests_are_retried_after_transient_failures()
    {
        var calls = new Dictionary<string, int>();
        await using var server = await StartFlakyServerAsync(failures: 2, calls);
        await using var caller = await TestApp.StartAsync(FastRetries);
        var http = caller.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.Equal("GET ok after 3", await http.GetStringAsync(new Uri(server.Address, "/flaky/get")));
        using var put = await http.PutAsync(new Uri(server.Address, "/flaky/put"), new StringContent("x"));
        Assert.Equal("PUT ok after 3", await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_is_not_retried_because_it_may_not_be_idempotent()
    {
        var calls = new Dictionary<string, int>();
        await using var server = await StartFlakyServerAsync(failures: 1, calls);
        await using var caller = await TestApp.StartAsync(FastRetries);
        var http = caller.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await http.PostAsync(new Uri(server.Address, "/flaky/post"), new StringContent("x"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, calls["post"]);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts()
    {
        var calls = new Dictionary<string, int>();
        await using var server = await StartFlakyServerAsync(failures: 100, calls);
        await using var caller = await TestApp.StartAsync(FastRetries);
        var http = caller.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await http.GetAsync(new Uri(server.Address, "/flaky/hopeless"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(4, calls["hopeless"]);
    }
}
