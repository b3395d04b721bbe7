using Platform.Mqtt.Topics;

namespace Platform.Gateway.Routing;

/// <summary>
/// Retained messages (3.3.1.3): the last retained message per topic, found by filter when a client
/// subscribes. A retained message with an empty payload removes the topic's message and is not
/// itself kept [MQTT-3.3.1-6], [MQTT-3.3.1-7].
/// </summary>
public sealed class RetainedMessageStore
{
    private readonly TopicNameIndex<MqttMessage> _index = new();

    public int Count => _index.Count;

    public void Update(MqttMessage message)
    {
        var topic = message.TopicString();
        if (message.PayloadLength == 0)
        {
            _index.Remove(topic);
        }
        else
        {
            _index.Set(topic, message);
        }
    }

    public List<MqttMessage> FindMatching(string filter)
    {
        var found = new List<MqttMessage>();
        _index.FindMatching(filter, (_, message) => found.Add(message));
        return found;
    }
}
