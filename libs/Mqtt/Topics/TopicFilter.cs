using Platform.Mqtt.Protocol;

namespace Platform.Mqtt.Topics;

/// <summary>Topic Filters (4.7): what a subscription matches, with the '+' and '#' wildcards.</summary>
public static class TopicFilter
{
    /// <summary>
    /// Checks wildcard placement: '#' only as the whole last level [MQTT-4.7.1-1], '+' only as a whole
    /// level [MQTT-4.7.1-2], not empty [MQTT-4.7.3-1]. Shared subscriptions are checked by
    /// <see cref="SharedSubscription.TryParse"/>. Returns null when valid, otherwise the error.
    /// </summary>
    public static MqttProtocolException? Validate(ReadOnlySpan<char> filter)
    {
        if (filter.IsEmpty)
        {
            return new MqttProtocolException(ReasonCode.TopicFilterInvalid, "MQTT-4.7.3-1", "Topic Filter is empty");
        }

        if (filter.Contains('\0'))
        {
            return new MqttProtocolException(ReasonCode.TopicFilterInvalid, "MQTT-1.5.4-2", "Topic Filter contains U+0000");
        }

        var levelStart = 0;
        for (var i = 0; i <= filter.Length; i++)
        {
            if (i < filter.Length && filter[i] != '/')
            {
                continue;
            }

            var level = filter[levelStart..i];
            var hash = level.IndexOf('#');
            if (hash >= 0 && (level.Length != 1 || i != filter.Length))
            {
                return new MqttProtocolException(ReasonCode.TopicFilterInvalid, "MQTT-4.7.1-1",
                    $"'#' must be a whole level and the last one: '{filter}'");
            }

            if (level.IndexOf('+') >= 0 && level.Length != 1)
            {
                return new MqttProtocolException(ReasonCode.TopicFilterInvalid, "MQTT-4.7.1-2",
                    $"'+' must occupy a whole level: '{filter}'");
            }

            levelStart = i + 1;
        }

        return null;
    }

    public static bool IsValid(ReadOnlySpan<char> filter) => Validate(filter) is null;

    public static bool HasWildcards(ReadOnlySpan<char> filter) => filter.IndexOfAny('+', '#') >= 0;

    /// <summary>
    /// Whether <paramref name="topic"/> matches <paramref name="filter"/> (4.7). A filter starting with a
    /// wildcard does not match topics starting with '$' [MQTT-4.7.2-1]. Both must be valid.
    /// </summary>
    public static bool Matches(ReadOnlySpan<char> filter, ReadOnlySpan<char> topic)
    {
        if (topic.Length > 0 && topic[0] == '$' && filter.Length > 0 && filter[0] is '+' or '#')
        {
            return false;
        }

        while (true)
        {
            var filterSlash = filter.IndexOf('/');
            var filterLevel = filterSlash < 0 ? filter : filter[..filterSlash];
            if (filterLevel is "#")
            {
                // '#' also matches the parent level: "a/#" matches "a".
                return true;
            }

            var topicSlash = topic.IndexOf('/');
            var topicLevel = topicSlash < 0 ? topic : topic[..topicSlash];
            if (filterLevel is not "+" && !filterLevel.SequenceEqual(topicLevel))
            {
                return false;
            }

            if (filterSlash < 0 || topicSlash < 0)
            {
                // Both must end here, except "a/#" against "a": the filter's remaining "#" matches nothing.
                return filterSlash < 0 && topicSlash < 0
                    || (topicSlash < 0 && filter[(filterSlash + 1)..] is "#");
            }

            filter = filter[(filterSlash + 1)..];
            topic = topic[(topicSlash + 1)..];
        }
    }
}

/// <summary>A shared subscription <c>$share/{ShareName}/{filter}</c> (4.8.2).</summary>
public readonly record struct SharedSubscription(string ShareName, string TopicFilter)
{
    public const string Prefix = "$share/";

    /// <summary>
    /// Splits a shared subscription. Returns false when <paramref name="filter"/> is not shared; throws
    /// when it is shared but malformed: ShareName empty or containing '/', '+' or '#'
    /// [MQTT-4.8.2-1], [MQTT-4.8.2-2], or no filter after it.
    /// </summary>
    public static bool TryParse(string filter, out SharedSubscription shared)
    {
        shared = default;
        if (!filter.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = filter.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            throw new MqttProtocolException(ReasonCode.TopicFilterInvalid, slash == 0 ? "MQTT-4.8.2-1" : "MQTT-4.8.2-2",
                $"shared subscription '{filter}' needs a ShareName followed by '/' and a Topic Filter");
        }

        var shareName = rest[..slash];
        if (shareName.IndexOfAny('+', '#') >= 0)
        {
            throw new MqttProtocolException(ReasonCode.TopicFilterInvalid, "MQTT-4.8.2-2", $"ShareName in '{filter}' contains a wildcard");
        }

        var topicFilter = rest[(slash + 1)..];
        if (Platform.Mqtt.Topics.TopicFilter.Validate(topicFilter) is { } error)
        {
            throw new MqttProtocolException(ReasonCode.TopicFilterInvalid, error.Statement, $"shared subscription '{filter}': {error.Message}");
        }

        shared = new SharedSubscription(shareName.ToString(), topicFilter.ToString());
        return true;
    }
}
