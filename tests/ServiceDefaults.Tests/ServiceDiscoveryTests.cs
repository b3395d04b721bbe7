using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Platform.ServiceDefaults.ServiceDiscovery;

namespace Platform.ServiceDefaults.Tests;

public sealed class ServiceDiscoveryTests
{
    private static Task<TestApp> StartReplicaAsync(string name) =>
        TestApp.StartAsync(map: app => app.MapGet("/whoami", () => name));

    [Fact]
    public async Task A_client_addressing_a_service_by_name_reaches_the_url_from_an_aspire_environment_variable()
    {
        await using var target = await StartReplicaAsync("inventory-1");
        // A unique service name: environment variables are process-wide and tests run in parallel.
        var service = "inventory" + Guid.NewGuid().ToString("N")[..8];
        var variable = $"services__{service}__http__0";
        Environment.SetEnvironmentVariable(variable, target.Address.ToString());
        try
        {
            await using var caller = await TestApp.StartAsync();
            var http = caller.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
            Assert.Equal("inventory-1", await http.GetStringAsync($"http://{service}/whoami"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Replicas_are_used_in_turn()
    {
        await using var first = await StartReplicaAsync("a");
        await using var second = await StartReplicaAsync("b");
        await using var caller = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["services:catalog:http:0"] = first.Address.ToString(),
            ["services:catalog:http:1"] = second.Address.ToString(),
        });
        var http = caller.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await http.GetStringAsync("http://catalog/whoami"));
        }

        Assert.Equal(2, answers.Count(a => a == "a"));
        Assert.Equal(2, answers.Count(a => a == "b"));
    }

    [Fact]
    public void Scheme_preference_and_named_endpoints_follow_aspire_rules()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["services:auth:http:0"] = "http://127.0.0.1:5101",
                ["services:auth:grpc:0"] = "http://127.0.0.1:5102",
                ["services:gateway:mqtt:0"] = "127.0.0.1:1883",
            })
            .Build();
        var resolver = new ServiceEndpointResolver(configuration);

        // https is preferred but absent, so http is used.
        Assert.Equal(new Uri("http://127.0.0.1:5101/v1/x?q=1"), resolver.Resolve(new Uri("https+http://auth/v1/x?q=1")));
        Assert.Equal(new Uri("http://127.0.0.1:5102/"), resolver.Resolve(new Uri("http://_grpc.auth/")));
        // A bare host:port takes the requested scheme: non-HTTP clients resolve through the same rules.
        Assert.Equal(new Uri("mqtt://127.0.0.1:1883/"), resolver.Resolve(new Uri("mqtt://gateway")));
        // Unknown hosts are real host names and stay untouched.
        Assert.Equal(new Uri("http://example.org/a"), resolver.Resolve(new Uri("http://example.org/a")));

        var error = Assert.Throws<InvalidOperationException>(() => resolver.Resolve(new Uri("https://auth/")));
        Assert.Contains("services__auth__https__0", error.Message, StringComparison.Ordinal);
    }
}
