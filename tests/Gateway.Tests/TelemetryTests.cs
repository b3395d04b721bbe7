using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using Platform.Testing.Otlp;
using Platform.Testing.Otlp.Proto.Trace;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task A_publish_with_traceparent_continues_the_trace_and_subscribers_continue_from_the_gateway_span()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var settings = new Dictionary<string, string?>(collector.ExporterSettings()) { ["OTEL_SERVICE_NAME"] = "gateway" };
        await using var gateway = await GatewayServer.StartAsync(settings);

        var (subscriber, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("trace-sub"));
        await using var s = subscriber;
        await subscriber.SendAsync(Subscribe(1, "vehicles/+/events/#"));
        await subscriber.ReceiveAsync<SubAckPacket>();

        var traceId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var carSpanId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        var (car, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("trace-car"));
        await using var c = car;
        var publish = Publish("vehicles/trace-car/events/crash", "{}", QualityOfService.AtLeastOnce, 1);
        publish.Properties = new MqttProperties().AddUserProperty("traceparent", $"00-{traceId}-{carSpanId}-01").AddUserProperty("k", "v");
        await car.SendAsync(publish);
        await car.ReceiveAsync<PublishAckPacket>();

        var received = await subscriber.ReceiveAsync<PublishPacket>();
        var forwarded = received.Properties!.GetUserProperty("traceparent")!;
        var parts = forwarded.Split('-');
        Assert.Equal(traceId, parts[1]);
        Assert.NotEqual(carSpanId, parts[2]);
        // Other user properties travel unchanged and in order [MQTT-3.3.2-17].
        Assert.Equal(["traceparent", "k"], received.Properties.UserProperties!.Select(p => p.Name));

        var span = await collector.WaitForSpanAsync(x => x.TraceId == traceId && x.ScopeName == "Platform.Gateway");
        Assert.Equal("gateway", span.ServiceName);
        Assert.Equal(carSpanId, span.ParentSpanId);
        Assert.Equal(parts[2], span.SpanId);
        Assert.Equal(Span.Types.SpanKind.Server, span.Kind);
        Assert.Equal("vehicles/trace-car/events/crash", span.Attributes["messaging.destination.name"]);
    }

    [Fact]
    public async Task Gateway_metrics_are_exported()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        var settings = new Dictionary<string, string?>(collector.ExporterSettings()) { ["OTEL_SERVICE_NAME"] = "gateway-metrics" };
        await using (var gateway = await GatewayServer.StartAsync(settings))
        {
            var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("metrics-car"));
            await using var c = client;
            await client.SendAsync(Publish("vehicles/metrics-car/telemetry", "{}", QualityOfService.AtLeastOnce, 1));
            await client.ReceiveAsync<PublishAckPacket>();
        }

        var received = await collector.WaitForMetricAsync(m => m.ServiceName == "gateway-metrics" && m.Name == "gateway.publish.received" &&
            m.Metric.Sum.DataPoints.Any(p => p.AsInt >= 1));
        Assert.True(received.Metric.Sum.IsMonotonic);
        await collector.WaitForMetricAsync(m => m.ServiceName == "gateway-metrics" && m.Name == "gateway.connections");
        await collector.WaitForMetricAsync(m => m.ServiceName == "gateway-metrics" && m.Name == "gateway.messages.dropped");
    }
}
