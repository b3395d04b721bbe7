using Platform.Mqtt.Topics;

namespace Platform.Gateway.Security;

[Flags]
public enum TopicAction : byte
{
    Publish = 1,
    Subscribe = 2,
    All = Publish | Subscribe,
}

/// <summary>One ACL rule with its templates already expanded for a connection.</summary>
public readonly record struct TopicRule(TopicAction Actions, string Filter, bool Allow);

/// <summary>
/// A connection's ACL: rules evaluated in order, first match wins, with a default when none
/// matches. Expanded once at CONNECT so checks on the publish path are plain topic matching.
/// </summary>
public sealed class TopicPermissions(IReadOnlyList<TopicRule> rules, bool allowWhenNoRuleMatches)
{
    public static readonly TopicPermissions AllowAll = new([], allowWhenNoRuleMatches: true);

    public IReadOnlyList<TopicRule> Rules { get; } = rules;

    public bool AllowWhenNoRuleMatches { get; } = allowWhenNoRuleMatches;

    public bool CanPublish(ReadOnlySpan<char> topic)
    {
        foreach (var rule in Rules)
        {
            if ((rule.Actions & TopicAction.Publish) != 0 && TopicFilter.Matches(rule.Filter, topic))
            {
                return rule.Allow;
            }
        }

        return AllowWhenNoRuleMatches;
    }

    /// <summary>
    /// A subscription is allowed by the first rule that concerns it: an allow rule must cover every
    /// topic the filter can match; a deny rule applies as soon as it overlaps the filter. Shared
    /// subscriptions are judged by their topic filter.
    /// </summary>
    public bool CanSubscribe(string filter)
    {
        var topicFilter = SharedSubscription.TryParse(filter, out var shared) ? shared.TopicFilter : filter;
        foreach (var rule in Rules)
        {
            if ((rule.Actions & TopicAction.Subscribe) == 0)
            {
                continue;
            }

            if (rule.Allow ? Covers(rule.Filter, topicFilter) : Overlaps(rule.Filter, topicFilter))
            {
                return rule.Allow;
            }
        }

        return AllowWhenNoRuleMatches;
    }

    /// <summary>Whether every topic matched by <paramref name="filter"/> is also matched by <paramref name="rule"/>.</summary>
    public static bool Covers(ReadOnlySpan<char> rule, ReadOnlySpan<char> filter)
    {
        for (var first = true; ; first = false)
        {
            var r = SplitLevel(rule, out var ruleRest);
            var f = SplitLevel(filter, out var filterRest);
            // A wildcard in the first level does not match topics beginning with '$' [MQTT-4.7.2-1].
            var dollarLevel = first && f.Length > 0 && f[0] == '$';
            if (r is "#")
            {
                return !dollarLevel;
            }

            if (f is "#" || (r is "+" ? dollarLevel : !r.SequenceEqual(f)))
            {
                return false;
            }

            if (filterRest.IsEmpty)
            {
                // "a/#" also matches "a".
                return ruleRest.IsEmpty || ruleRest is "/#";
            }

            if (ruleRest.IsEmpty)
            {
                return false;
            }

            rule = ruleRest[1..];
            filter = filterRest[1..];
        }
    }

    /// <summary>Whether at least one topic is matched by both filters.</summary>
    public static bool Overlaps(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        for (var first = true; ; first = false)
        {
            var x = SplitLevel(a, out var restA);
            var y = SplitLevel(b, out var restB);
            var dollar = first && ((x.Length > 0 && x[0] == '$') || (y.Length > 0 && y[0] == '$'));
            if (x is "#" || y is "#" || x is "+" || y is "+")
            {
                // A first-level wildcard never meets a '$' topic.
                if (dollar)
                {
                    return false;
                }

                if (x is "#" || y is "#")
                {
                    return true;
                }
            }
            else if (!x.SequenceEqual(y))
            {
                return false;
            }

            if (restA.IsEmpty || restB.IsEmpty)
            {
                return (restA.IsEmpty && restB.IsEmpty) || restA is "/#" || restB is "/#";
            }

            a = restA[1..];
            b = restB[1..];
        }
    }

    /// <summary>The first level of <paramref name="filter"/>; <paramref name="rest"/> starts at the '/' after it (empty at the end).</summary>
    private static ReadOnlySpan<char> SplitLevel(ReadOnlySpan<char> filter, out ReadOnlySpan<char> rest)
    {
        var slash = filter.IndexOf('/');
        if (slash < 0)
        {
            rest = [];
            return filter;
        }

        rest = filter[slash..];
        return filter[..slash];
    }
}
