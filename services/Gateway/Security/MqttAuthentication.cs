using System.Net;
using System.Security.Cryptography.X509Certificates;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Security;

/// <summary>What a client presents when it connects.</summary>
public sealed record MqttConnectRequest(
    string ClientId,
    string? UserName,
    ReadOnlyMemory<byte>? Password,
    X509Certificate2? ClientCertificate,
    EndPoint? RemoteEndPoint,
    MqttProtocolVersion ProtocolVersion,
    string Listener);

/// <summary>Who a connection is, and what it may do; fixed for the life of the connection.</summary>
public sealed record MqttIdentity(string ClientId, string? UserName, TopicPermissions Permissions);

public sealed record MqttAuthenticationResult(ReasonCode ReasonCode, MqttIdentity? Identity, string? ReasonString = null)
{
    public bool Succeeded => ReasonCode == ReasonCode.Success && Identity is not null;

    public static MqttAuthenticationResult Success(MqttIdentity identity) => new(ReasonCode.Success, identity);

    public static MqttAuthenticationResult Fail(ReasonCode reasonCode, string? reason = null) => new(reasonCode, null, reason);
}

/// <summary>
/// Decides whether a CONNECT is accepted and with which permissions. Implementations: the
/// configuration-based <see cref="ConfiguredAuthenticator"/> (local runs, tests, small deployments)
/// and, later, one backed by the Auth service. Called once per CONNECT, off the publish path.
/// </summary>
public interface IMqttAuthenticator
{
    ValueTask<MqttAuthenticationResult> AuthenticateAsync(MqttConnectRequest request, CancellationToken cancellationToken);
}
