using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Platform.Gateway.Security;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

public sealed class SecurityAndLimitsTests
{
    private static readonly string CarPassword = "s3cret-car";

    /// <summary>The brief's default ACL: a car publishes under its own VIN and subscribes to its own commands and alerts.</summary>
    private static Dictionary<string, string?> CarAcl() => new()
    {
        ["Mqtt:Auth:AllowAnonymous"] = "false",
        ["Mqtt:Auth:AllowWhenNoRuleMatches"] = "false",
        ["Mqtt:Auth:Users:VIN0000000000001"] = PasswordHash.Create(System.Text.Encoding.UTF8.GetBytes(CarPassword), iterations: 1000),
        ["Mqtt:Auth:Acl:0:Action"] = "publish",
        ["Mqtt:Auth:Acl:0:Topic"] = "vehicles/%u/#",
        ["Mqtt:Auth:Acl:1:Action"] = "subscribe",
        ["Mqtt:Auth:Acl:1:Topic"] = "vehicles/%u/commands",
        ["Mqtt:Auth:Acl:2:Action"] = "subscribe",
        ["Mqtt:Auth:Acl:2:Topic"] = "traffic/#",
    };

    private static ConnectPacket CarConnect(string password, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        var connect = Connect("VIN0000000000001", version);
        connect.UserName = "VIN0000000000001";
        connect.Password = System.Text.Encoding.UTF8.GetBytes(password);
        return connect;
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500, ReasonCode.BadUserNameOrPassword)]
    [InlineData(MqttProtocolVersion.V311, ReasonCode.BadUserNameOrPassword)]
    public async Task A_wrong_password_is_refused(MqttProtocolVersion version, ReasonCode expected)
    {
        await using var gateway = await GatewayServer.StartAsync(CarAcl());
        var (client, connAck) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, CarConnect("wrong", version));
        await using var c = client;
        Assert.Equal(expected, connAck.ReasonCode);
        Assert.True((await client.WaitForCloseAsync()).Closed);
    }

    [Fact]
    public async Task Anonymous_clients_are_refused_when_anonymous_access_is_off()
    {
        await using var gateway = await GatewayServer.StartAsync(CarAcl());
        var (client, connAck) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("nobody"));
        await using var c = client;
        Assert.Equal(ReasonCode.NotAuthorized, connAck.ReasonCode);
    }

    [Fact]
    public async Task A_car_publishes_and_subscribes_only_within_its_own_topics()
    {
        await using var gateway = await GatewayServer.StartAsync(CarAcl());
        var (car, connAck) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, CarConnect(CarPassword));
        await using var c = car;
        Assert.Equal(ReasonCode.Success, connAck.ReasonCode);

        await car.SendAsync(Publish("vehicles/VIN0000000000001/telemetry", "{}", QualityOfService.AtLeastOnce, 1));
        Assert.Equal(ReasonCode.NoMatchingSubscribers, (await car.ReceiveAsync<PublishAckPacket>()).ReasonCode);
        await car.SendAsync(Publish("vehicles/VIN9999999999999/telemetry", "{}", QualityOfService.AtLeastOnce, 2));
        Assert.Equal(ReasonCode.NotAuthorized, (await car.ReceiveAsync<PublishAckPacket>()).ReasonCode);

        await car.SendAsync(new SubscribePacket
        {
            PacketId = 3,
            Subscriptions =
            [
                new MqttSubscription("vehicles/VIN0000000000001/commands"),
                new MqttSubscription("vehicles/VIN9999999999999/commands"),
                new MqttSubscription("vehicles/+/commands"),
                new MqttSubscription("traffic/cell-42"),
                new MqttSubscription("#"),
            ],
        });
        var subAck = await car.ReceiveAsync<SubAckPacket>();
        Assert.Equal(
            [ReasonCode.GrantedQoS0, ReasonCode.NotAuthorized, ReasonCode.NotAuthorized, ReasonCode.GrantedQoS0, ReasonCode.NotAuthorized],
            subAck.ReasonCodes);
    }

    [Fact]
    public async Task Acl_templates_cannot_be_widened_by_wildcards_in_the_client_id()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Mqtt:Auth:AllowWhenNoRuleMatches"] = "false",
            ["Mqtt:Auth:Acl:0:Action"] = "publish",
            ["Mqtt:Auth:Acl:0:Topic"] = "vehicles/%c/#",
        };
        await using var gateway = await GatewayServer.StartAsync(settings);
        var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("#"));
        await using var c = client;
        await client.SendAsync(Publish("vehicles/anything/telemetry", "{}", QualityOfService.AtLeastOnce, 1));
        Assert.Equal(ReasonCode.NotAuthorized, (await client.ReceiveAsync<PublishAckPacket>()).ReasonCode);
    }

    [Fact]
    public async Task A_silent_client_is_disconnected_after_one_and_a_half_keep_alives()
    {
        await using var gateway = await GatewayServer.StartAsync();
        var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("sleepy", keepAlive: 1));
        await using var c = client;

        var (closed, before) = await client.WaitForCloseAsync(TimeSpan.FromSeconds(10));
        Assert.True(closed);
        Assert.Equal(ReasonCode.KeepAliveTimeout, Assert.IsType<DisconnectPacket>(Assert.Single(before)).ReasonCode);
    }

    [Fact]
    public async Task The_server_keep_alive_caps_what_an_mqtt5_client_asks_for()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?> { ["Mqtt:Sessions:ServerKeepAliveSeconds"] = "30" });
        var (client, connAck) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("greedy", keepAlive: 600));
        await using var c = client;
        Assert.Equal((ushort)30, connAck.Properties!.ServerKeepAlive);
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_does_not_slow_publishers_or_other_subscribers()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Mqtt:Sessions:MaximumQueuedMessages"] = "200",
        });

        // The stalled subscriber subscribes and then never reads its socket again.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.MqttPort));
        var handshake = new System.Buffers.ArrayBufferWriter<byte>();
        Platform.Mqtt.Codec.MqttPacketEncoder.Write(handshake, Connect("stalled"), MqttProtocolVersion.V500);
        Platform.Mqtt.Codec.MqttPacketEncoder.Write(handshake, Subscribe(1, "flood/#", QualityOfService.AtMostOnce), MqttProtocolVersion.V500);
        await stalled.SendAsync(handshake.WrittenMemory);

        var (healthy, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("healthy"));
        await using var h = healthy;
        await healthy.SendAsync(Subscribe(1, "flood/#", QualityOfService.AtMostOnce));
        await healthy.ReceiveAsync<SubAckPacket>();

        var (publisher, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("flooder"));
        await using var p = publisher;
        var payload = new string('x', 2000);
        const int Count = 2000;
        var receiving = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
            {
                await healthy.ReceiveAsync<PublishPacket>();
            }
        });

        for (ushort i = 1; i <= Count; i++)
        {
            await publisher.SendAsync(Publish("flood/x", payload, QualityOfService.AtLeastOnce, i));
            // Every PUBACK comes back: the publisher is never held up by the stalled subscriber.
            Assert.Equal(i, (await publisher.ReceiveAsync<PublishAckPacket>()).PacketId);
        }

        await receiving.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(gateway.Broker.Telemetry.DropCount(Telemetry.DropReason.QueueFull) > 0, "the stalled subscriber's queue should have overflowed");
        Assert.True(gateway.Broker.Sessions.Store.TryGet("stalled", out var session));
        Assert.True(session.QueuedCount <= 200);
    }
}
