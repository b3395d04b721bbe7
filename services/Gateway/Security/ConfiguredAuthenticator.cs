using Microsoft.Extensions.Options;
using Platform.Gateway.Configuration;
using Platform.Mqtt.Protocol;
using Platform.Mqtt.Topics;

namespace Platform.Gateway.Security;

/// <summary>
/// Authentication from configuration: static users with PBKDF2 hashes, optional anonymous access,
/// client-certificate identities, and the configured ACL expanded for each connection (%c = client
/// id, %u = user name). The default configuration accepts everyone with every permission, which
/// suits local runs; production disables anonymous access and plugs in the Auth service.
/// </summary>
public sealed class ConfiguredAuthenticator(IOptions<GatewayOptions> options) : IMqttAuthenticator
{
    private readonly AuthOptions _auth = options.Value.Auth;
    private readonly bool _certificateNames = options.Value.Tls.UseCertificateCommonNameAsUserName;

    public ValueTask<MqttAuthenticationResult> AuthenticateAsync(MqttConnectRequest request, CancellationToken cancellationToken)
    {
        var userName = request.UserName;
        if (request.ClientCertificate is { } certificate && _certificateNames)
        {
            // TLS already verified the chain; the certificate's name is the identity.
            userName = certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, forIssuer: false);
        }
        else if (userName is not null && _auth.Users.Count > 0)
        {
            if (!_auth.Users.TryGetValue(userName, out var hash) || request.Password is not { } password || !PasswordHash.Verify(password.Span, hash))
            {
                return ValueTask.FromResult(MqttAuthenticationResult.Fail(ReasonCode.BadUserNameOrPassword));
            }
        }
        else if (!_auth.AllowAnonymous)
        {
            return ValueTask.FromResult(MqttAuthenticationResult.Fail(
                userName is null ? ReasonCode.NotAuthorized : ReasonCode.BadUserNameOrPassword));
        }

        var identity = new MqttIdentity(request.ClientId, userName, Expand(_auth, request.ClientId, userName));
        return ValueTask.FromResult(MqttAuthenticationResult.Success(identity));
    }

    /// <summary>Expands the ACL templates for one connection; rules whose template cannot apply are skipped.</summary>
    public static TopicPermissions Expand(AuthOptions auth, string clientId, string? userName)
    {
        if (auth.Acl.Count == 0)
        {
            return auth.AllowWhenNoRuleMatches ? TopicPermissions.AllowAll : new TopicPermissions([], false);
        }

        var rules = new List<TopicRule>(auth.Acl.Count);
        foreach (var rule in auth.Acl)
        {
            if (rule.UserName is { } only && only != userName)
            {
                continue;
            }

            if (rule.Topic.Contains("%u", StringComparison.Ordinal) && userName is null)
            {
                continue;
            }

            // A client id or user name holding wildcard or separator characters must not widen a rule.
            if ((rule.Topic.Contains("%c", StringComparison.Ordinal) && !IsSafeLevel(clientId)) ||
                (rule.Topic.Contains("%u", StringComparison.Ordinal) && !IsSafeLevel(userName!)))
            {
                continue;
            }

            var topic = rule.Topic.Replace("%c", clientId, StringComparison.Ordinal).Replace("%u", userName, StringComparison.Ordinal);
            if (!TopicFilter.IsValid(topic))
            {
                continue;
            }

            var action = rule.Action.ToLowerInvariant() switch
            {
                "publish" or "pub" => TopicAction.Publish,
                "subscribe" or "sub" => TopicAction.Subscribe,
                _ => TopicAction.All,
            };
            rules.Add(new TopicRule(action, topic, rule.Allow));
        }

        return new TopicPermissions(rules, auth.AllowWhenNoRuleMatches);
    }

    private static bool IsSafeLevel(string value) => value.Length > 0 && value.AsSpan().IndexOfAny("/+#") < 0;
}
