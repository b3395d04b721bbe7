using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Tests.Codec;

public sealed class SmokeTests
{
    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void Connect_round_trips(MqttProtocolVersion version)
    {
        var connect = new ConnectPacket
        {
            ProtocolVersion = version,
            ClientId = "WVWZZZ1JZ3W386752",
            CleanStart = false,
            KeepAliveSeconds = 30,
            UserName = "car",
            Password = "secret"u8.ToArray(),
            Will = new MqttWillMessage { Topic = "vehicles/WVWZZZ1JZ3W386752/status", Payload = "offline"u8.ToArray(), QoS = QualityOfService.AtLeastOnce, Retain = true },
        };
        var decoded = Assert.IsType<ConnectPacket>(Codec.Decode(Codec.Encode(connect, version), version, toServer: true));
        Assert.Equal(version, decoded.ProtocolVersion);
        Assert.Equal(connect.ClientId, decoded.ClientId);
        Assert.False(decoded.CleanStart);
        Assert.Equal(30, decoded.KeepAliveSeconds);
        Assert.Equal("car", decoded.UserName);
        Assert.Equal("secret"u8.ToArray(), decoded.Password!.Value.ToArray());
        Assert.Equal("vehicles/WVWZZZ1JZ3W386752/status", decoded.Will!.Topic);
        Assert.True(decoded.Will.Retain);
    }

    [Fact]
    public void Publish_with_properties_round_trips()
    {
        var publish = new PublishPacket
        {
            Topic = "vehicles/VIN/telemetry",
            Payload = new byte[100],
            QoS = QualityOfService.AtLeastOnce,
            PacketId = 7,
            Properties = new MqttProperties { MessageExpiryInterval = 60, ContentType = "application/json" }.AddUserProperty("traceparent", "00-abc-def-01"),
        };
        var decoded = Assert.IsType<PublishPacket>(Codec.Decode(Codec.Encode(publish, MqttProtocolVersion.V500), MqttProtocolVersion.V500, toServer: true));
        Assert.Equal(publish.Topic, decoded.Topic);
        Assert.Equal(100, decoded.Payload.Length);
        Assert.Equal((ushort)7, decoded.PacketId);
        Assert.Equal(60u, decoded.Properties!.MessageExpiryInterval);
        Assert.Equal("00-abc-def-01", decoded.Properties.GetUserProperty("traceparent"));
    }
}
