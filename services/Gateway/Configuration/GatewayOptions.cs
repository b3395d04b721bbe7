namespace Platform.Gateway.Configuration;

/// <summary>
/// Broker settings, bound from the <c>Mqtt</c> configuration section and so overridable by
/// environment variables such as <c>Mqtt__TcpPort=1884</c>.
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Mqtt";

    /// <summary>MQTT over TCP; 0 picks a free port, -1 disables the listener.</summary>
    public int TcpPort { get; set; } = 1883;

    /// <summary>MQTT over TLS; enabled when a certificate is configured. 0 picks a free port.</summary>
    public int TlsPort { get; set; } = 8883;

    /// <summary>Address the MQTT listeners bind to ("*" for all interfaces).</summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>Path of MQTT over WebSocket on the HTTP endpoints.</summary>
    public string WebSocketPath { get; set; } = "/mqtt";

    public TlsOptions Tls { get; set; } = new();

    public SessionOptions Sessions { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public AuthOptions Auth { get; set; } = new();

    public ManagementOptions Management { get; set; } = new();
}

public sealed class TlsOptions
{
    /// <summary>PEM or PFX certificate file; the TLS listener starts only when set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file when <see cref="CertificatePath"/> is a PEM certificate without its key.</summary>
    public string? KeyPath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Ask clients for a certificate (they may still connect without one unless <see cref="RequireClientCertificate"/>).</summary>
    public bool AllowClientCertificates { get; set; }

    public bool RequireClientCertificate { get; set; }

    /// <summary>PEM bundle of CAs that client certificates must chain to; system roots when unset.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>Use the client certificate's subject common name as the user name (for ACL %u).</summary>
    public bool UseCertificateCommonNameAsUserName { get; set; } = true;
}

public sealed class SessionOptions
{
    /// <summary>Upper bound on the session expiry a client may ask for (seconds); also used for 3.1.1 persistent sessions.</summary>
    public uint MaximumSessionExpirySeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>
    /// Messages queued per session (online and offline). Policy when full: QoS 0 messages are dropped
    /// once the queue is half full; QoS 1 and 2 messages are accepted until it is full, then dropped too.
    /// Every drop is counted (gateway.messages.dropped, reason queue_full). Sized so a busy consumer
    /// (a Kafka bridge taking a whole fleet's telemetry) can fall a few thousand messages behind
    /// for a moment without losing any.
    /// </summary>
    public int MaximumQueuedMessages { get; set; } = 10_000;

    /// <summary>Bytes of payload queued per session; the same policy applies.</summary>
    public long MaximumQueuedBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Different queue bounds for some clients, first matching prefix wins — e.g. the Kafka bridge
    /// (<c>kafka-bridge</c>) gets a deep queue so a Kafka outage is absorbed rather than refused.
    /// </summary>
    public List<SessionQueueOverride> QueueOverrides { get; } = [];

    /// <summary>
    /// Honour the SUBSCRIBE user property <c>publisher-info: client-id</c>: deliveries through such a
    /// subscription carry the publisher's client id as user property <c>mqtt.client_id</c>.
    /// </summary>
    public bool AllowPublisherInfo { get; set; } = true;

    /// <summary>Queue QoS 0 messages for disconnected persistent sessions (off: they are dropped, like Mosquitto).</summary>
    public bool QueueQos0WhenOffline { get; set; }

    /// <summary>Unacknowledged QoS 1/2 messages the broker sends to one client at a time (also capped by the client's Receive Maximum).</summary>
    public int MaximumInflightMessages { get; set; } = 256;

    /// <summary>Receive Maximum the broker announces: unacknowledged QoS 1/2 PUBLISH a client may send.</summary>
    public ushort ReceiveMaximum { get; set; } = 1024;

    /// <summary>Topic aliases a client may use towards the broker (MQTT 5).</summary>
    public ushort TopicAliasMaximum { get; set; } = 64;

    /// <summary>Largest packet accepted from a client, and announced in CONNACK.</summary>
    public int MaximumPacketSize { get; set; } = 1024 * 1024;

    /// <summary>Keep-alive cap in seconds announced to MQTT 5 clients as Server Keep Alive; 0 disables the cap.</summary>
    public ushort ServerKeepAliveSeconds { get; set; } = 60;

    /// <summary>Time a client has to send CONNECT after opening the connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Disconnect a client whose socket accepted nothing for this long while its queue was full.</summary>
    public TimeSpan StalledWriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How shared-subscription groups pick a member: RoundRobin or HashClientId (of the publisher).</summary>
    public SharedSubscriptionStrategy SharedSubscriptionStrategy { get; set; } = SharedSubscriptionStrategy.RoundRobin;
}

public sealed class SessionQueueOverride
{
    public string ClientIdPrefix { get; set; } = "";

    public int MaximumQueuedMessages { get; set; } = 100_000;

    public long MaximumQueuedBytes { get; set; } = 512L * 1024 * 1024;
}

public enum SharedSubscriptionStrategy
{
    RoundRobin,
    HashClientId,
}

public sealed class LimitOptions
{
    /// <summary>Concurrent MQTT connections over all listeners; 0 for no limit.</summary>
    public int MaximumConnections { get; set; } = 100_000;

    /// <summary>New connections per second per listener; 0 for no limit.</summary>
    public int ConnectionRatePerSecond { get; set; }

    /// <summary>PUBLISH packets per second per client (burst = one second's worth); 0 for no limit.</summary>
    public int PublishRatePerSecond { get; set; }

    /// <summary>PUBLISH payload bytes per second per client; 0 for no limit.</summary>
    public long PublishBytesPerSecond { get; set; }

    public int MaximumTopicLength { get; set; } = 1024;

    public int MaximumTopicLevels { get; set; } = 32;

    /// <summary>Subscriptions one session may hold.</summary>
    public int MaximumSubscriptionsPerSession { get; set; } = 1000;

    /// <summary>Bytes the broker buffers for one connection's socket before it stops writing to it.</summary>
    public int MaximumOutboundBufferBytes { get; set; } = 256 * 1024;
}

public sealed class AuthOptions
{
    /// <summary>Allow clients without credentials. The default suits local runs; production sets false.</summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>Static users (user name → PBKDF2 hash "pbkdf2-sha256$iterations$salt$hash"), for small deployments and tests.</summary>
    public Dictionary<string, string> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Decision when no ACL rule matches.</summary>
    public bool AllowWhenNoRuleMatches { get; set; } = true;

    /// <summary>
    /// ACL rules, first match wins. Topics may use %c (client id) and %u (user name), e.g. a car
    /// publishes only under its own VIN: { Action: "publish", Topic: "vehicles/%c/#", Allow: true }.
    /// </summary>
    public List<AclRuleOptions> Acl { get; } = [];
}

public sealed class AclRuleOptions
{
    /// <summary>publish, subscribe or all.</summary>
    public string Action { get; set; } = "all";

    public string Topic { get; set; } = "#";

    public bool Allow { get; set; } = true;

    /// <summary>Only for this user name (after template expansion); null for everyone.</summary>
    public string? UserName { get; set; }
}

public sealed class ManagementOptions
{
    /// <summary>Bearer key for /api; when unset the API answers only requests from loopback.</summary>
    public string? ApiKey { get; set; }
}
