using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

public sealed class ProtectionTests
{
    [Fact]
    public async Task Connections_beyond_the_maximum_are_refused_with_quota_exceeded()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?> { ["Mqtt:Limits:MaximumConnections"] = "2" });
        var (a, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("first"));
        var (b, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("second"));
        await using var first = a;
        await using var second = b;

        var (third, connAck) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("third"));
        await using var t = third;
        Assert.Equal(ReasonCode.QuotaExceeded, connAck.ReasonCode);
    }

    [Fact]
    public async Task Connections_faster_than_the_listener_rate_are_refused_with_connection_rate_exceeded()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?> { ["Mqtt:Limits:ConnectionRatePerSecond"] = "3" });
        var codes = new List<ReasonCode>();
        for (var i = 0; i < 10; i++)
        {
            var (client, connAck) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect($"burst-{i}"));
            codes.Add(connAck.ReasonCode);
            await client.DisposeAsync();
        }

        // The bucket holds one second's worth; ten back-to-back connects cannot all fit.
        Assert.Contains(ReasonCode.Success, codes);
        Assert.Contains(ReasonCode.ConnectionRateExceeded, codes);
    }

    [Fact]
    public async Task Publishes_beyond_the_per_client_rate_are_refused_with_quota_exceeded()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?> { ["Mqtt:Limits:PublishRatePerSecond"] = "5" });
        var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("chatty"));
        await using var c = client;
        var codes = new List<ReasonCode>();
        for (ushort i = 1; i <= 20; i++)
        {
            await client.SendAsync(Publish("chatty/x", "x", QualityOfService.AtLeastOnce, i));
            codes.Add((await client.ReceiveAsync<PublishAckPacket>()).ReasonCode);
        }

        Assert.Contains(ReasonCode.QuotaExceeded, codes);
        Assert.True(codes.Count(c => c != ReasonCode.QuotaExceeded) <= 7);
        Assert.True(gateway.Broker.Telemetry.DropCount(Telemetry.DropReason.RateLimited) > 0);
    }

    [Fact]
    public async Task Topics_over_the_length_or_level_limits_are_refused()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Mqtt:Limits:MaximumTopicLength"] = "32",
            ["Mqtt:Limits:MaximumTopicLevels"] = "4",
        });
        var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("topics"));
        await using var c = client;

        await client.SendAsync(Publish(new string('a', 40), "x", QualityOfService.AtLeastOnce, 1));
        Assert.Equal(ReasonCode.TopicNameInvalid, (await client.ReceiveAsync<PublishAckPacket>()).ReasonCode);
        await client.SendAsync(Publish("a/b/c/d/e", "x", QualityOfService.AtLeastOnce, 2));
        Assert.Equal(ReasonCode.TopicNameInvalid, (await client.ReceiveAsync<PublishAckPacket>()).ReasonCode);
        await client.SendAsync(new SubscribePacket { PacketId = 3, Subscriptions = [new MqttSubscription("a/b/c/d/#"), new MqttSubscription("a/+/c")] });
        Assert.Equal([ReasonCode.TopicFilterInvalid, ReasonCode.GrantedQoS0], (await client.ReceiveAsync<SubAckPacket>()).ReasonCodes);
    }

    [Fact]
    public async Task Invalid_filters_are_refused_per_filter_without_disconnecting()
    {
        await using var gateway = await GatewayServer.StartAsync();
        var (client, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("filters"));
        await using var c = client;
        await client.SendAsync(new SubscribePacket
        {
            PacketId = 1,
            Subscriptions = [new MqttSubscription("a/#/b"), new MqttSubscription("a/b+"), new MqttSubscription("$share//x"), new MqttSubscription("ok/+")],
        });
        Assert.Equal(
            [ReasonCode.TopicFilterInvalid, ReasonCode.TopicFilterInvalid, ReasonCode.TopicFilterInvalid, ReasonCode.GrantedQoS0],
            (await client.ReceiveAsync<SubAckPacket>()).ReasonCodes);
    }

    [Fact]
    public async Task Hash_by_client_id_sends_one_publishers_messages_to_the_same_shared_member()
    {
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?> { ["Mqtt:Sessions:SharedSubscriptionStrategy"] = "HashClientId" });
        var members = new List<RawMqttConnection>();
        for (var i = 0; i < 3; i++)
        {
            var (member, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect($"hash-member-{i}"));
            await member.SendAsync(Subscribe(1, "$share/h/cars/#", QualityOfService.AtMostOnce));
            await member.ReceiveAsync<SubAckPacket>();
            members.Add(member);
        }

        var (car, _) = await RawMqttConnection.ConnectAsync(gateway.MqttPort, Connect("hash-car"));
        await using var c = car;
        for (var i = 0; i < 6; i++)
        {
            await car.SendAsync(Publish("cars/one/telemetry", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        // Exactly one member gets all six, in order.
        var receiver = -1;
        var got = new List<string>();
        for (var i = 0; i < members.Count && receiver < 0; i++)
        {
            try
            {
                got.Add((await members[i].ReceiveAsync<PublishPacket>(TimeSpan.FromSeconds(2))).Text());
                receiver = i;
            }
            catch (OperationCanceledException)
            {
            }
        }

        Assert.True(receiver >= 0);
        while (got.Count < 6)
        {
            got.Add((await members[receiver].ReceiveAsync<PublishPacket>()).Text());
        }

        Assert.Equal(["0", "1", "2", "3", "4", "5"], got);
        foreach (var member in members)
        {
            await member.DisposeAsync();
        }
    }
}
