using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

/// <summary>At-least-once end to end: a publisher is told "accepted" only when every subscriber's session took the message.</summary>
public sealed class ReliabilityTests : IAsyncLifetime
{
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayServer.StartAsync(new Dictionary<string, string?>
    {
        ["Mqtt:Sessions:MaximumQueuedMessages"] = "4",
        ["Mqtt:Sessions:QueueOverrides:0:ClientIdPrefix"] = "kafka-bridge",
        ["Mqtt:Sessions:QueueOverrides:0:MaximumQueuedMessages"] = "100",
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    /// <summary>An offline persistent session subscribed at QoS 1 to <paramref name="filter"/>.</summary>
    private async Task ParkSubscriberAsync(string clientId, string filter)
    {
        var (client, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect(clientId, sessionExpiry: 300));
        await client.SendAsync(Subscribe(1, filter, QualityOfService.AtLeastOnce));
        await client.ReceiveAsync<SubAckPacket>();
        await client.SendAsync(new DisconnectPacket());
        await client.WaitForCloseAsync();
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_qos1_message_a_full_subscriber_queue_refuses_is_answered_with_quota_exceeded()
    {
        await ParkSubscriberAsync("slow-app", "reliable/v5/#");
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("reliable-car"));
        await using var c = car;

        var codes = new List<ReasonCode>();
        for (ushort i = 1; i <= 6; i++)
        {
            await car.SendAsync(Publish("reliable/v5/x", $"m{i}", QualityOfService.AtLeastOnce, i));
            codes.Add((await car.ReceiveAsync<PublishAckPacket>()).ReasonCode);
        }

        Assert.Equal([ReasonCode.Success, ReasonCode.Success, ReasonCode.Success, ReasonCode.Success, ReasonCode.QuotaExceeded, ReasonCode.QuotaExceeded], codes);
    }

    [Fact]
    public async Task A_311_publisher_gets_no_puback_for_a_refused_message_and_is_disconnected_so_it_resends()
    {
        await ParkSubscriberAsync("slow-app-311", "reliable/v3/#");
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("reliable-car-311", MqttProtocolVersion.V311));
        await using var c = car;
        for (ushort i = 1; i <= 4; i++)
        {
            await car.SendAsync(Publish("reliable/v3/x", $"m{i}", QualityOfService.AtLeastOnce, i));
            Assert.Equal(i, (await car.ReceiveAsync<PublishAckPacket>()).PacketId);
        }

        await car.SendAsync(Publish("reliable/v3/x", "m5", QualityOfService.AtLeastOnce, 5));
        var (closed, before) = await car.WaitForCloseAsync();
        Assert.True(closed);
        Assert.Empty(before);
    }

    [Fact]
    public async Task Clients_matching_a_queue_override_get_its_deeper_queue()
    {
        await ParkSubscriberAsync("kafka-bridge-7", "reliable/bridge/#");
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("bridge-feeder"));
        await using var c = car;
        for (ushort i = 1; i <= 50; i++)
        {
            await car.SendAsync(Publish("reliable/bridge/x", $"m{i}", QualityOfService.AtLeastOnce, i));
            Assert.Equal(ReasonCode.Success, (await car.ReceiveAsync<PublishAckPacket>()).ReasonCode);
        }

        Assert.True(_gateway.Broker.Sessions.Store.TryGet("kafka-bridge-7", out var session));
        Assert.Equal(50, session.QueuedCount);
    }

    [Fact]
    public async Task A_subscription_asking_for_publisher_info_receives_the_publishers_client_id()
    {
        var (bridge, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("info-bridge"));
        await using var b = bridge;
        await bridge.SendAsync(new SubscribePacket
        {
            PacketId = 1,
            Properties = new MqttProperties().AddUserProperty("publisher-info", "client-id"),
            Subscriptions = [new MqttSubscription("$share/bridge/info/+/telemetry", QualityOfService.AtLeastOnce)],
        });
        await bridge.ReceiveAsync<SubAckPacket>();
        var (plain, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("info-plain"));
        await using var p = plain;
        await plain.SendAsync(Subscribe(1, "info/+/telemetry", QualityOfService.AtMostOnce));
        await plain.ReceiveAsync<SubAckPacket>();

        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("WVWZZZ1JZ3W386752"));
        await using var c = car;
        var publish = Publish("info/WVWZZZ1JZ3W386752/telemetry", "{}", QualityOfService.AtLeastOnce, 1);
        publish.Properties = new MqttProperties().AddUserProperty("a", "1");
        await car.SendAsync(publish);
        await car.ReceiveAsync<PublishAckPacket>();

        var withInfo = await bridge.ReceiveAsync<PublishPacket>();
        Assert.Equal([new MqttUserProperty("a", "1"), new MqttUserProperty("mqtt.client_id", "WVWZZZ1JZ3W386752")], withInfo.Properties!.UserProperties!);
        var without = await plain.ReceiveAsync<PublishPacket>();
        Assert.Equal([new MqttUserProperty("a", "1")], without.Properties!.UserProperties!);
    }
}
