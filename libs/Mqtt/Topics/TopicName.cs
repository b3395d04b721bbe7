using Platform.Mqtt.Codec;
using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Topics;

/// <summary>Topic Names (4.7): what a PUBLISH is sent to. Levels are separated by '/'; no wildcards.</summary>
public static class TopicName
{
    /// <summary>
    /// Checks a topic name that already passed the UTF-8 rules: not empty [MQTT-4.7.3-1] and free of
    /// wildcard characters [MQTT-3.3.2-2].
    /// </summary>
    public static void ThrowIfInvalid(ReadOnlySpan<byte> utf8, string field = "Topic Name")
    {
        if (utf8.IsEmpty)
        {
            throw new MqttProtocolException(ReasonCode.TopicNameInvalid, "MQTT-4.7.3-1", $"{field} is empty");
        }

        if (utf8.IndexOfAny((byte)'+', (byte)'#') >= 0)
        {
            throw new MqttProtocolException(ReasonCode.TopicNameInvalid, "MQTT-3.3.2-2", $"{field} contains a wildcard character");
        }
    }

    /// <summary>True when <paramref name="topic"/> can be published to.</summary>
    public static bool IsValid(string topic) =>
        topic.Length > 0 && topic.AsSpan().IndexOfAny('+', '#', '\0') < 0 && !HasUnpairedSurrogate(topic);

    internal static bool HasUnpairedSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Topic names starting with '$' are reserved for the server and not matched by leading wildcards (4.7.2).</summary>
    public static bool IsSystemTopic(ReadOnlySpan<char> topic) => topic.Length > 0 && topic[0] == '$';

    /// <summary>Validates a topic name given as UTF-8 bytes from the wire (UTF-8 rules included).</summary>
    public static bool IsValidUtf8(ReadOnlySpan<byte> utf8) =>
        !utf8.IsEmpty && utf8.IndexOfAny((byte)'+', (byte)'#') < 0 && MqttUtf8.IsValid(utf8);
}
