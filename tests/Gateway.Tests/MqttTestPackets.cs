using System.Text;
using Platform.Mqtt.Packets;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Tests;

/// <summary>Short constructors for the packets tests send.</summary>
internal static class MqttTestPackets
{
    public static ConnectPacket Connect(string clientId, MqttProtocolVersion version = MqttProtocolVersion.V500, bool cleanStart = true, uint? sessionExpiry = null, ushort keepAlive = 60) =>
        new()
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = cleanStart,
            KeepAliveSeconds = keepAlive,
            Properties = sessionExpiry is { } expiry && version == MqttProtocolVersion.V500 ? new MqttProperties { SessionExpiryInterval = expiry } : null,
        };

    public static SubscribePacket Subscribe(ushort packetId, string filter, QualityOfService qos = QualityOfService.AtLeastOnce) =>
        new() { PacketId = packetId, Subscriptions = [new MqttSubscription(filter, qos)] };

    public static PublishPacket Publish(string topic, string payload, QualityOfService qos = QualityOfService.AtMostOnce, ushort packetId = 0, bool retain = false) =>
        new() { Topic = topic, Payload = Encoding.UTF8.GetBytes(payload), QoS = qos, PacketId = packetId, Retain = retain };

    public static string Text(this PublishPacket publish) => Encoding.UTF8.GetString(publish.Payload.Span);
}
