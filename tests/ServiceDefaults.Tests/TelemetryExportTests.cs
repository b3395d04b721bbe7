using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Platform.Testing.Otlp;
using Platform.Testing.Otlp.Proto.Trace;

namespace Platform.ServiceDefaults.Tests;

public sealed class TelemetryExportTests
{
    [Theory]
    [InlineData("http/protobuf")]
    [InlineData("grpc")]
    public async Task Server_span_metrics_and_logs_reach_the_collector_with_the_configured_service_name(string protocol)
    {
        await using var collector = await OtlpReceiver.StartAsync();
        // Activity listeners are process-wide, so other tests' requests may be exported here too;
        // a unique route keeps this test's assertions about its own request.
        var route = "/orders/" + Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string?>(collector.ExporterSettings(protocol))
        {
            ["OTEL_SERVICE_NAME"] = "orders-" + protocol,
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=test,service.namespace=platform",
        };

        var app = await TestApp.StartAsync(settings, map: app => app.MapGet(route, (ILogger<TelemetryExportTests> log) =>
        {
            log.LogInformation("Serving order {Route}", route);
            return "ok";
        }));
        await using (app)
        {
            using var http = new HttpClient { BaseAddress = app.Address };
            Assert.Equal("ok", await http.GetStringAsync(route));
        }

        // The app is stopped and disposed: whatever it still held has been flushed on shutdown.
        var span = await collector.WaitForSpanAsync(s => Equals(s.Attributes.GetValueOrDefault("url.path"), route));
        Assert.Equal("orders-" + protocol, span.ServiceName);
        Assert.Equal(Span.Types.SpanKind.Server, span.Kind);
        Assert.Equal("Microsoft.AspNetCore", span.ScopeName);
        Assert.Equal("GET", span.Attributes["http.request.method"]);
        Assert.Equal(200L, span.Attributes["http.response.status_code"]);
        Assert.Equal(route, span.Attributes["http.route"]);
        Assert.Equal("GET " + route, span.Name);
        Assert.Equal("test", span.ResourceAttributes["deployment.environment.name"]);
        Assert.Equal("platform", span.ResourceAttributes["service.namespace"]);

        var metric = await collector.WaitForMetricAsync(m => m.ServiceName == "orders-" + protocol && m.Name == "http.server.request.duration");
        Assert.Equal(Platform.Testing.Otlp.Proto.Metrics.Metric.DataOneofCase.Histogram, metric.Metric.DataCase);

        var log = await collector.WaitForLogAsync(l => l.ServiceName == "orders-" + protocol && l.Body.Contains(route, StringComparison.Ordinal));
        Assert.Equal(span.TraceId, log.TraceId);
    }

    [Fact]
    public async Task An_unhandled_exception_marks_the_server_span_as_an_error()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var route = "/broken/" + Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string?>(collector.ExporterSettings()) { ["OTEL_SERVICE_NAME"] = "broken" };

        await using (var app = await TestApp.StartAsync(settings, map: app => app.MapGet(route, string () => throw new InvalidOperationException("boom"))))
        {
            using var http = new HttpClient { BaseAddress = app.Address };
            using var response = await http.GetAsync(route);
            Assert.Equal(System.Net.HttpStatusCode.InternalServerError, response.StatusCode);
        }

        var span = await collector.WaitForSpanAsync(s => Equals(s.Attributes.GetValueOrDefault("url.path"), route));
        Assert.Equal(Status.Types.StatusCode.Error, span.Span.Status.Code);
        Assert.Equal(500L, span.Attributes["http.response.status_code"]);
        Assert.Equal(typeof(InvalidOperationException).FullName, span.Attributes["error.type"]);
    }

    [Fact]
    public async Task Platform_meters_are_collected_without_extra_registration()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var settings = new Dictionary<string, string?>(collector.ExporterSettings()) { ["OTEL_SERVICE_NAME"] = "meter-check" };
        var counterName = "platform.test.requests." + Guid.NewGuid().ToString("N")[..8];

        await using (var app = await TestApp.StartAsync(settings))
        {
            var meter = app.Services.GetRequiredService<IMeterFactory>().Create("Platform.ServiceDefaults.Tests");
            meter.CreateCounter<long>(counterName).Add(3);
        }

        var metric = await collector.WaitForMetricAsync(m => m.ServiceName == "meter-check" && m.Name == counterName);
        Assert.Equal(3L, metric.Metric.Sum.DataPoints.Sum(p => p.AsInt));
    }

    [Fact]
    public async Task Without_an_endpoint_the_application_name_becomes_the_service_name()
    {
        // Nothing is exported without OTEL_EXPORTER_OTLP_ENDPOINT, but the resource must still be
        // sensible for any exporter a service adds itself.
        await using var app = await TestApp.StartAsync();
        var tracer = app.Services.GetRequiredService<OpenTelemetry.Trace.TracerProvider>();
        var resource = OpenTelemetry.ProviderExtensions.GetResource(tracer);
        Assert.Equal("Platform.TestService", resource.Attributes.Single(a => a.Key == "service.name").Value);
    }
}
