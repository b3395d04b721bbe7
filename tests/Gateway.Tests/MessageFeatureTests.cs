using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

public sealed class MessageFeatureTests : IAsyncLifetime
{
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayServer.StartAsync(new Dictionary<string, string?>
    {
        ["Mqtt:Sessions:MaximumPacketSize"] = "4096",
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<RawMqttConnection> SubscribedAsync(string clientId, string filter, QualityOfService qos = QualityOfService.AtLeastOnce, MqttProperties? connectProperties = null, MqttSubscription? subscription = null)
    {
        var connect = Connect(clientId);
        connect.Properties = connectProperties;
        var (client, connAck) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, connect);
        Assert.Equal(ReasonCode.Success, connAck.ReasonCode);
        await client.SendAsync(new SubscribePacket { PacketId = 1, Subscriptions = [subscription ?? new MqttSubscription(filter, qos)] });
        await client.ReceiveAsync<SubAckPacket>();
        return client;
    }

    [Fact]
    public async Task The_will_is_published_when_the_connection_drops_and_not_after_a_normal_disconnect()
    {
        await using var watcher = await SubscribedAsync("will-watcher", "vehicles/+/status");

        var dropping = Connect("car-will-1");
        dropping.Will = new MqttWillMessage { Topic = "vehicles/car-will-1/status", Payload = "offline"u8.ToArray(), QoS = QualityOfService.AtLeastOnce };
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, dropping);
        await car.DisposeAsync(); // network failure, no DISCONNECT

        var will = await watcher.ReceiveAsync<PublishPacket>();
        Assert.Equal("vehicles/car-will-1/status", will.Topic);
        Assert.Equal("offline", will.Text());
        await watcher.SendAsync(new PublishAckPacket(PacketType.PubAck, will.PacketId));

        var polite = Connect("car-will-2");
        polite.Will = new MqttWillMessage { Topic = "vehicles/car-will-2/status", Payload = "offline"u8.ToArray() };
        var (car2, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, polite);
        await car2.SendAsync(new DisconnectPacket());
        await car2.WaitForCloseAsync();
        await car2.DisposeAsync();

        var (marker, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("will-marker"));
        await using var m = marker;
        await marker.SendAsync(Publish("vehicles/marker/status", "marker"));
        Assert.Equal("marker", (await watcher.ReceiveAsync<PublishPacket>()).Text());
    }

    [Fact]
    public async Task A_delayed_will_is_cancelled_by_a_reconnect_within_the_delay_and_sent_after_it_otherwise()
    {
        await using var watcher = await SubscribedAsync("delay-watcher", "vehicles/+/status", QualityOfService.AtMostOnce);

        MqttWillMessage Will(string car) => new()
        {
            Topic = $"vehicles/{car}/status",
            Payload = "offline"u8.ToArray(),
            Properties = new MqttProperties { WillDelayInterval = 1 },
        };

        // Reconnects within the delay: no will [MQTT-3.1.3-9].
        var returning = Connect("car-back", sessionExpiry: 60);
        returning.Will = Will("car-back");
        var (first, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, returning);
        await first.DisposeAsync();
        var (again, connAck) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-back", cleanStart: false, sessionExpiry: 60));
        await using var a = again;
        Assert.True(connAck.SessionPresent);

        // Stays away: the will follows once the delay has passed.
        var leaving = Connect("car-gone", sessionExpiry: 60);
        leaving.Will = Will("car-gone");
        var (gone, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, leaving);
        await gone.DisposeAsync();

        var published = await watcher.ReceiveAsync<PublishPacket>(TimeSpan.FromSeconds(10));
        Assert.Equal("vehicles/car-gone/status", published.Topic);
    }

    [Fact]
    public async Task A_message_that_expires_while_queued_is_not_delivered_and_others_carry_their_remaining_lifetime()
    {
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-expiry", sessionExpiry: 300));
        await car.SendAsync(Subscribe(1, "vehicles/car-expiry/commands"));
        await car.ReceiveAsync<SubAckPacket>();
        await car.SendAsync(new DisconnectPacket());
        await car.WaitForCloseAsync();
        await car.DisposeAsync();

        var (app, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("app-expiry"));
        await using var a = app;
        var shortLived = Publish("vehicles/car-expiry/commands", "short", QualityOfService.AtLeastOnce, 1);
        shortLived.Properties = new MqttProperties { MessageExpiryInterval = 1 };
        var longLived = Publish("vehicles/car-expiry/commands", "long", QualityOfService.AtLeastOnce, 2);
        longLived.Properties = new MqttProperties { MessageExpiryInterval = 3600 };
        await app.SendAsync(shortLived);
        await app.ReceiveAsync<PublishAckPacket>();
        await app.SendAsync(longLived);
        await app.ReceiveAsync<PublishAckPacket>();

        await Task.Delay(TimeSpan.FromSeconds(2.2));

        var (back, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-expiry", cleanStart: false, sessionExpiry: 300));
        await using var b = back;
        var delivered = await back.ReceiveAsync<PublishPacket>();
        Assert.Equal("long", delivered.Text());
        // The interval is counted down while queued [MQTT-3.3.2-6].
        Assert.InRange(delivered.Properties!.MessageExpiryInterval!.Value, 3590u, 3599u);
    }

    [Fact]
    public async Task Topic_aliases_work_in_both_directions()
    {
        await using var subscriber = await SubscribedAsync("alias-sub", "alias/#", QualityOfService.AtMostOnce, new MqttProperties { TopicAliasMaximum = 5 });
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("alias-pub"));
        await using var p = publisher;

        // Client → broker: topic and alias once, then the alias alone.
        var first = Publish("alias/vehicle/telemetry", "1");
        first.Properties = new MqttProperties { TopicAlias = 3 };
        var second = Publish("", "2");
        second.Properties = new MqttProperties { TopicAlias = 3 };
        await publisher.SendAsync(first);
        await publisher.SendAsync(second);

        // Broker → client: the subscriber asked for aliases, so the second carries only the alias.
        var one = await subscriber.ReceiveAsync<PublishPacket>();
        var two = await subscriber.ReceiveAsync<PublishPacket>();
        Assert.Equal("alias/vehicle/telemetry", one.Topic);
        Assert.NotNull(one.Properties?.TopicAlias);
        Assert.Equal("", two.Topic);
        Assert.Equal(one.Properties!.TopicAlias, two.Properties?.TopicAlias);
        Assert.Equal(("1", "2"), (one.Text(), two.Text()));
    }

    [Fact]
    public async Task An_alias_beyond_the_announced_maximum_disconnects_with_topic_alias_invalid()
    {
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("alias-bad"));
        await using var p = publisher;
        var publish = Publish("alias/x", "1");
        publish.Properties = new MqttProperties { TopicAlias = 65 };
        await publisher.SendAsync(publish);

        var (closed, before) = await publisher.WaitForCloseAsync();
        Assert.True(closed);
        Assert.Equal(ReasonCode.TopicAliasInvalid, Assert.IsType<DisconnectPacket>(Assert.Single(before)).ReasonCode);
    }

    [Fact]
    public async Task The_broker_never_has_more_unacknowledged_messages_at_a_client_than_its_receive_maximum()
    {
        await using var subscriber = await SubscribedAsync("rm-sub", "rm/#", QualityOfService.AtLeastOnce, new MqttProperties { ReceiveMaximum = 2 });
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("rm-pub"));
        await using var p = publisher;
        for (ushort i = 1; i <= 5; i++)
        {
            await publisher.SendAsync(Publish("rm/t", i.ToString(System.Globalization.CultureInfo.InvariantCulture), QualityOfService.AtLeastOnce, i));
            await publisher.ReceiveAsync<PublishAckPacket>();
        }

        var a = await subscriber.ReceiveAsync<PublishPacket>();
        var b = await subscriber.ReceiveAsync<PublishPacket>();
        // A third must not come while two are unacknowledged [MQTT-3.3.4-9].
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => subscriber.ReceiveAsync(TimeSpan.FromMilliseconds(500)));

        await subscriber.SendAsync(new PublishAckPacket(PacketType.PubAck, a.PacketId));
        var c = await subscriber.ReceiveAsync<PublishPacket>();
        Assert.Equal(("1", "2", "3"), (a.Text(), b.Text(), c.Text()));
    }

    [Fact]
    public async Task A_packet_larger_than_the_broker_maximum_is_refused_with_packet_too_large()
    {
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("big-pub"));
        await using var p = publisher;
        await publisher.SendAsync(Publish("big/x", new string('x', 5000)));

        var (closed, before) = await publisher.WaitForCloseAsync();
        Assert.True(closed);
        Assert.Equal(ReasonCode.PacketTooLarge, Assert.IsType<DisconnectPacket>(Assert.Single(before)).ReasonCode);
    }

    [Fact]
    public async Task A_message_larger_than_the_client_maximum_is_skipped_for_that_client()
    {
        await using var small = await SubscribedAsync("small-sub", "size/#", QualityOfService.AtMostOnce, new MqttProperties { MaximumPacketSize = 200 });
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("size-pub"));
        await using var p = publisher;
        await publisher.SendAsync(Publish("size/x", new string('x', 1000)));
        await publisher.SendAsync(Publish("size/x", "fits"));

        // Discarded as if delivered [MQTT-3.1.2-25]; the next one arrives.
        Assert.Equal("fits", (await small.ReceiveAsync<PublishPacket>()).Text());
    }

    [Fact]
    public async Task Shared_subscription_members_take_turns()
    {
        await using var a = await SubscribedAsync("bridge-a", "$share/bridge/fleet/+/telemetry", QualityOfService.AtMostOnce);
        await using var b = await SubscribedAsync("bridge-b", "$share/bridge/fleet/+/telemetry", QualityOfService.AtMostOnce);
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("fleet-pub"));
        await using var p = publisher;
        for (var i = 0; i < 4; i++)
        {
            await publisher.SendAsync(Publish("fleet/v/telemetry", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var toA = new[] { await a.ReceiveAsync<PublishPacket>(), await a.ReceiveAsync<PublishPacket>() };
        var toB = new[] { await b.ReceiveAsync<PublishPacket>(), await b.ReceiveAsync<PublishPacket>() };
        Assert.Equal(["0", "1", "2", "3"], toA.Concat(toB).Select(m => m.Text()).Order());
    }

    [Fact]
    public async Task Unacknowledged_messages_of_a_shared_member_that_leaves_go_to_another_member()
    {
        var (leaving, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("share-leaving", sessionExpiry: 300));
        await leaving.SendAsync(new SubscribePacket { PacketId = 1, Subscriptions = [new MqttSubscription("$share/g/jobs/#", QualityOfService.AtLeastOnce)] });
        await leaving.ReceiveAsync<SubAckPacket>();
        await using var staying = await SubscribedAsync("share-staying", "$share/g/jobs/#");

        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("jobs-pub"));
        await using var p = publisher;
        for (ushort i = 1; i <= 4; i++)
        {
            await publisher.SendAsync(Publish("jobs/x", $"job{i}", QualityOfService.AtLeastOnce, i));
            await publisher.ReceiveAsync<PublishAckPacket>();
        }

        // The leaving member takes its share and never acknowledges it.
        var taken = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            taken.Add((await leaving.ReceiveAsync<PublishPacket>()).Text());
        }

        await leaving.DisposeAsync();

        var received = new List<string>();
        while (received.Count < 4)
        {
            var message = await staying.ReceiveAsync<PublishPacket>();
            received.Add(message.Text());
            await staying.SendAsync(new PublishAckPacket(PacketType.PubAck, message.PacketId));
        }

        Assert.Equal(["job1", "job2", "job3", "job4"], received.Order());
        Assert.All(taken, job => Assert.Contains(job, received));
    }

    [Fact]
    public async Task Subscription_identifiers_no_local_and_retain_as_published_are_honoured()
    {
        var (client, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("options-client"));
        await using var c = client;
        await client.SendAsync(new SubscribePacket
        {
            PacketId = 1,
            Properties = new MqttProperties { SubscriptionIdentifiers = [42] },
            Subscriptions =
            [
                new MqttSubscription("opt/own", QualityOfService.AtMostOnce) { NoLocal = true },
                new MqttSubscription("opt/retained", QualityOfService.AtMostOnce) { RetainAsPublished = true },
            ],
        });
        await client.ReceiveAsync<SubAckPacket>();

        await client.SendAsync(Publish("opt/own", "echo"));                   // No Local: not sent back
        await client.SendAsync(Publish("opt/retained", "kept", retain: true)); // RAP: arrives with RETAIN set

        var received = await client.ReceiveAsync<PublishPacket>();
        Assert.Equal("opt/retained", received.Topic);
        Assert.True(received.Retain);
        Assert.Equal([42u], received.Properties!.SubscriptionIdentifiers!);
    }

    [Fact]
    public async Task Retain_handling_2_sends_no_retained_messages_and_1_only_for_a_new_subscription()
    {
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("rh-pub"));
        await using var p = publisher;
        await publisher.SendAsync(Publish("rh/state", "retained", QualityOfService.AtLeastOnce, 1, retain: true));
        await publisher.ReceiveAsync<PublishAckPacket>();

        var (client, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("rh-client"));
        await using var c = client;
        await client.SendAsync(new SubscribePacket { PacketId = 1, Subscriptions = [new MqttSubscription("rh/#") { RetainHandling = RetainHandling.DoNotSend }] });
        await client.ReceiveAsync<SubAckPacket>();
        await client.SendAsync(new SubscribePacket { PacketId = 2, Subscriptions = [new MqttSubscription("rh/+") { RetainHandling = RetainHandling.SendAtSubscribeIfNew }] });
        await client.ReceiveAsync<SubAckPacket>();
        Assert.Equal("retained", (await client.ReceiveAsync<PublishPacket>()).Text());
        await client.SendAsync(new SubscribePacket { PacketId = 3, Subscriptions = [new MqttSubscription("rh/+") { RetainHandling = RetainHandling.SendAtSubscribeIfNew }] });
        await client.ReceiveAsync<SubAckPacket>();

        await publisher.SendAsync(Publish("rh/state", "live"));
        var next = await client.ReceiveAsync<PublishPacket>();
        Assert.Equal("live", next.Text());
    }
}
