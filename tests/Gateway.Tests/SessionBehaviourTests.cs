using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;
using static Platform.Gateway.Tests.MqttTestPackets;

namespace Platform.Gateway.Tests;

public sealed class SessionBehaviourTests : IAsyncLifetime
{
    private GatewayServer _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayServer.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Connack_announces_the_broker_limits_to_an_mqtt5_client()
    {
        var (client, connAck) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("limits"));
        await using var _ = client;

        Assert.Equal(ReasonCode.Success, connAck.ReasonCode);
        Assert.False(connAck.SessionPresent);
        Assert.Equal((ushort)1024, connAck.Properties!.ReceiveMaximum);
        Assert.Equal((ushort)64, connAck.Properties.TopicAliasMaximum);
        Assert.Equal(1024u * 1024, connAck.Properties.MaximumPacketSize);
    }

    [Fact]
    public async Task An_empty_client_id_gets_an_assigned_identifier()
    {
        var (client, connAck) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect(""));
        await using var _ = client;

        Assert.StartsWith("auto-", connAck.Properties!.AssignedClientIdentifier, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_311_client_with_empty_id_and_persistent_session_is_rejected_with_identifier_rejected()
    {
        await using var client = await RawMqttConnection.OpenAsync(_gateway.MqttPort, MqttProtocolVersion.V311);
        await client.SendAsync(Connect("", MqttProtocolVersion.V311, cleanStart: false));

        var connAck = await client.ReceiveAsync<ConnAckPacket>();
        Assert.Equal(ReasonCode.ClientIdentifierNotValid, connAck.ReasonCode);
        Assert.True((await client.WaitForCloseAsync()).Closed);
    }

    /// <summary>[MQTT-3.1.2-2]: the refusal comes in the CONNACK format of the version the client asked for.</summary>
    [Theory]
    [InlineData("MQTT", (byte)9, MqttProtocolVersion.V311)] // unknown level: 3.1.1 CONNACK, return code 1
    [InlineData("MQTX", (byte)4, MqttProtocolVersion.V311)] // unknown protocol name
    [InlineData("MQTX", (byte)5, MqttProtocolVersion.V500)] // unknown protocol name at level 5: reason code 0x84
    public async Task An_unsupported_protocol_is_refused_in_a_connack_the_client_can_read(string name, byte level, MqttProtocolVersion replyFormat)
    {
        await using var client = await RawMqttConnection.OpenAsync(_gateway.MqttPort, replyFormat);
        var body = new List<byte> { 0, 4 };
        body.AddRange(System.Text.Encoding.ASCII.GetBytes(name));
        body.AddRange([level, 0x02, 0, 60]);
        if (level == 5)
        {
            body.Add(0); // empty property block
        }

        body.AddRange([0, 1, (byte)'x']);
        await client.SendBytesAsync(new byte[] { 0x10, (byte)body.Count }.Concat(body).ToArray());

        var (closed, before) = await client.WaitForCloseAsync();
        Assert.True(closed);
        var connAck = Assert.IsType<ConnAckPacket>(Assert.Single(before));
        Assert.Equal(ReasonCode.UnsupportedProtocolVersion, connAck.ReasonCode);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311, QualityOfService.AtMostOnce)]
    [InlineData(MqttProtocolVersion.V311, QualityOfService.AtLeastOnce)]
    [InlineData(MqttProtocolVersion.V311, QualityOfService.ExactlyOnce)]
    [InlineData(MqttProtocolVersion.V500, QualityOfService.AtMostOnce)]
    [InlineData(MqttProtocolVersion.V500, QualityOfService.AtLeastOnce)]
    [InlineData(MqttProtocolVersion.V500, QualityOfService.ExactlyOnce)]
    public async Task A_publish_reaches_a_subscriber_with_the_full_acknowledgement_flow(MqttProtocolVersion version, QualityOfService qos)
    {
        var (subscriber, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect($"sub-{version}-{qos}", version));
        await using var s = subscriber;
        await subscriber.SendAsync(Subscribe(1, "vehicles/+/telemetry", QualityOfService.ExactlyOnce));
        var subAck = await subscriber.ReceiveAsync<SubAckPacket>();
        Assert.Equal((ReasonCode)(byte)QualityOfService.ExactlyOnce, Assert.Single(subAck.ReasonCodes));

        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect($"pub-{version}-{qos}", version));
        await using var p = publisher;
        await publisher.SendAsync(Publish("vehicles/VIN1/telemetry", "{\"speed\":87.5}", qos, packetId: qos == QualityOfService.AtMostOnce ? (ushort)0 : (ushort)10));
        if (qos == QualityOfService.AtLeastOnce)
        {
            var pubAck = await publisher.ReceiveAsync<PublishAckPacket>();
            Assert.Equal((PacketType.PubAck, (ushort)10, ReasonCode.Success), (pubAck.Type, pubAck.PacketId, pubAck.ReasonCode));
        }
        else if (qos == QualityOfService.ExactlyOnce)
        {
            Assert.Equal(PacketType.PubRec, (await publisher.ReceiveAsync<PublishAckPacket>()).Type);
            await publisher.SendAsync(new PublishAckPacket(PacketType.PubRel, 10));
            Assert.Equal(PacketType.PubComp, (await publisher.ReceiveAsync<PublishAckPacket>()).Type);
        }

        var received = await subscriber.ReceiveAsync<PublishPacket>();
        Assert.Equal("vehicles/VIN1/telemetry", received.Topic);
        Assert.Equal("{\"speed\":87.5}", received.Text());
        Assert.Equal(qos, received.QoS);
        if (qos == QualityOfService.ExactlyOnce)
        {
            await subscriber.SendAsync(new PublishAckPacket(PacketType.PubRec, received.PacketId));
            Assert.Equal(PacketType.PubRel, (await subscriber.ReceiveAsync<PublishAckPacket>()).Type);
            await subscriber.SendAsync(new PublishAckPacket(PacketType.PubComp, received.PacketId));
        }
    }

    [Fact]
    public async Task A_qos2_publish_resent_before_pubrel_is_delivered_once()
    {
        var (subscriber, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("qos2-sub"));
        await using var s = subscriber;
        await subscriber.SendAsync(Subscribe(1, "dedupe/#", QualityOfService.AtMostOnce));
        await subscriber.ReceiveAsync<SubAckPacket>();

        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("qos2-pub"));
        await using var p = publisher;
        var publish = Publish("dedupe/x", "once", QualityOfService.ExactlyOnce, packetId: 7);
        await publisher.SendAsync(publish);
        Assert.Equal(PacketType.PubRec, (await publisher.ReceiveAsync<PublishAckPacket>()).Type);
        publish.Dup = true;
        await publisher.SendAsync(publish);
        Assert.Equal(PacketType.PubRec, (await publisher.ReceiveAsync<PublishAckPacket>()).Type);
        await publisher.SendAsync(new PublishAckPacket(PacketType.PubRel, 7));
        Assert.Equal(PacketType.PubComp, (await publisher.ReceiveAsync<PublishAckPacket>()).Type);
        // A marker published afterwards proves nothing else was queued before it.
        await publisher.SendAsync(Publish("dedupe/marker", "end"));

        Assert.Equal("once", (await subscriber.ReceiveAsync<PublishPacket>()).Text());
        Assert.Equal("end", (await subscriber.ReceiveAsync<PublishPacket>()).Text());
    }

    [Fact]
    public async Task A_retained_message_is_sent_on_subscribe_and_an_empty_payload_clears_it()
    {
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("retain-pub"));
        await using var p = publisher;
        await publisher.SendAsync(Publish("vehicles/VIN2/status", "online", QualityOfService.AtLeastOnce, 1, retain: true));
        await publisher.ReceiveAsync<PublishAckPacket>();

        var (first, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("retain-sub-1"));
        await using (first)
        {
            await first.SendAsync(Subscribe(1, "vehicles/+/status"));
            await first.ReceiveAsync<SubAckPacket>();
            var retained = await first.ReceiveAsync<PublishPacket>();
            Assert.True(retained.Retain);
            Assert.Equal("online", retained.Text());
        }

        await publisher.SendAsync(Publish("vehicles/VIN2/status", "", QualityOfService.AtLeastOnce, 2, retain: true));
        await publisher.ReceiveAsync<PublishAckPacket>();
        Assert.Equal(0, _gateway.Broker.Retained.Count);

        var (second, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("retain-sub-2"));
        await using var s2 = second;
        await second.SendAsync(Subscribe(1, "vehicles/+/status"));
        await second.ReceiveAsync<SubAckPacket>();
        await publisher.SendAsync(Publish("vehicles/VIN2/status", "marker"));
        Assert.Equal("marker", (await second.ReceiveAsync<PublishPacket>()).Text());
    }

    [Fact]
    public async Task A_second_connection_with_the_same_client_id_takes_over_and_the_first_gets_0x8E()
    {
        var (first, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-takeover", cleanStart: false, sessionExpiry: 300));
        await using var f = first;
        await first.SendAsync(Subscribe(1, "vehicles/car-takeover/commands"));
        await first.ReceiveAsync<SubAckPacket>();

        var (second, connAck) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-takeover", cleanStart: false, sessionExpiry: 300));
        await using var s = second;
        Assert.True(connAck.SessionPresent);

        var (closed, before) = await first.WaitForCloseAsync();
        Assert.True(closed);
        Assert.Equal(ReasonCode.SessionTakenOver, Assert.IsType<DisconnectPacket>(Assert.Single(before)).ReasonCode);

        // The subscription belongs to the session and came along.
        var (publisher, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("takeover-pub"));
        await using var p = publisher;
        await publisher.SendAsync(Publish("vehicles/car-takeover/commands", "lock"));
        Assert.Equal("lock", (await second.ReceiveAsync<PublishPacket>()).Text());
    }

    [Fact]
    public async Task Messages_for_an_offline_persistent_session_are_delivered_on_reconnect()
    {
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-offline", cleanStart: true, sessionExpiry: 300));
        await car.SendAsync(Subscribe(1, "vehicles/car-offline/commands", QualityOfService.AtLeastOnce));
        await car.ReceiveAsync<SubAckPacket>();
        await car.SendAsync(new DisconnectPacket());
        await car.DisposeAsync();

        var (app, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("app"));
        await using var a = app;
        await app.SendAsync(Publish("vehicles/car-offline/commands", "unlock", QualityOfService.AtLeastOnce, 3));
        Assert.Equal(ReasonCode.Success, (await app.ReceiveAsync<PublishAckPacket>()).ReasonCode);

        var (back, connAck) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-offline", cleanStart: false, sessionExpiry: 300));
        await using var b = back;
        Assert.True(connAck.SessionPresent);
        var command = await back.ReceiveAsync<PublishPacket>();
        Assert.Equal("unlock", command.Text());
        Assert.Equal(QualityOfService.AtLeastOnce, command.QoS);
    }

    [Fact]
    public async Task An_unacknowledged_qos1_message_is_resent_with_dup_after_reconnect()
    {
        var (car, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-resend", cleanStart: true, sessionExpiry: 300));
        await car.SendAsync(Subscribe(1, "vehicles/car-resend/commands", QualityOfService.AtLeastOnce));
        await car.ReceiveAsync<SubAckPacket>();

        var (app, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("app-resend"));
        await using var a = app;
        await app.SendAsync(Publish("vehicles/car-resend/commands", "honk", QualityOfService.AtLeastOnce, 4));
        var first = await car.ReceiveAsync<PublishPacket>();
        Assert.False(first.Dup);
        await car.DisposeAsync(); // gone without PUBACK

        var (back, _) = await RawMqttConnection.ConnectAsync(_gateway.MqttPort, Connect("car-resend", cleanStart: false, sessionExpiry: 300));
        await using var b = back;
        var again = await back.ReceiveAsync<PublishPacket>();
        Assert.True(again.Dup);
        Assert.Equal(first.PacketId, again.PacketId);
        Assert.Equal("honk", again.Text());
    }
}
