using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Gateway.Configuration;
using Platform.Gateway.Connections;
using Platform.Gateway.Routing;
using Platform.Gateway.Telemetry;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Management;

public sealed record ClientInfo(
    string ClientId,
    string? UserName,
    string ProtocolVersion,
    string Listener,
    string? RemoteEndPoint,
    DateTimeOffset ConnectedAt,
    int KeepAliveSeconds,
    int Subscriptions,
    int QueuedMessages,
    int InflightMessages,
    long MessagesReceived,
    long MessagesSent);

public sealed record SessionInfo(string ClientId, bool Connected, uint ExpiryIntervalSeconds, int Subscriptions, int QueuedMessages, int InflightMessages);

public sealed record SubscriptionInfo(string ClientId, string TopicFilter, int MaximumQoS, bool NoLocal, bool RetainAsPublished, int RetainHandling, uint SubscriptionIdentifier);

public sealed record GatewayStats(
    int Connections,
    int Sessions,
    int Subscriptions,
    int RetainedMessages,
    long QueuedMessages,
    long PublishReceived,
    long PublishSent,
    long BytesReceived,
    long BytesSent,
    IReadOnlyDictionary<string, long> Dropped);

/// <summary>
/// The broker's management API under <c>/api/v1</c>: who is connected, sessions, subscriptions,
/// counters, and kicking a client. Protected by a bearer key when one is configured, otherwise
/// reachable from loopback only.
/// </summary>
public static class ManagementApi
{
    public static IEndpointRouteBuilder MapManagementApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").AddEndpointFilter(RequireOperator);

        api.MapGet("/stats", (MqttBroker broker) =>
        {
            var totals = broker.Telemetry.Totals(broker);
            var dropped = Enum.GetValues<DropReason>().ToDictionary(r => r.ToString(), broker.Telemetry.DropCount);
            return new GatewayStats(
                broker.ConnectionCount,
                broker.Sessions.Store.Count,
                broker.Subscriptions.Count,
                broker.Retained.Count,
                broker.QueuedMessages(),
                totals.PublishesReceived0 + totals.PublishesReceived1 + totals.PublishesReceived2,
                totals.PublishesSent0 + totals.PublishesSent1 + totals.PublishesSent2,
                totals.BytesReceived,
                totals.BytesSent,
                dropped);
        });

        api.MapGet("/clients", (MqttBroker broker) =>
            broker.Connections.Where(c => c.Session is not null).Select(Describe).OrderBy(c => c.ClientId, StringComparer.Ordinal).ToList());

        api.MapGet("/clients/{clientId}", (string clientId, MqttBroker broker) =>
            broker.FindConnection(clientId) is { } connection
                ? Results.Ok(Describe(connection))
                : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"Client '{clientId}' is not connected."));

        api.MapDelete("/clients/{clientId}", async (string clientId, MqttBroker broker) =>
        {
            if (broker.FindConnection(clientId) is not { } connection)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"Client '{clientId}' is not connected.");
            }

            // 0x98 Administrative action tells an MQTT 5 client why it was disconnected.
            await connection.CloseAsync(ReasonCode.AdministrativeAction, "disconnected by an operator");
            return Results.NoContent();
        });

        api.MapGet("/sessions", (MqttBroker broker, int? offset, int? limit) =>
            broker.Sessions.Store.All
                .OrderBy(s => s.ClientId, StringComparer.Ordinal)
                .Skip(offset ?? 0)
                .Take(Math.Clamp(limit ?? 100, 1, 10_000))
                .Select(s =>
                {
                    lock (s.SyncRoot)
                    {
                        return new SessionInfo(s.ClientId, s.IsOnline, s.ExpiryIntervalSeconds, s.Subscriptions.Count, s.QueuedCount, s.Inflight.Count);
                    }
                })
                .ToList());

        api.MapGet("/subscriptions", (MqttBroker broker, string? clientId) =>
        {
            var sessions = clientId is null
                ? broker.Sessions.Store.All
                : broker.Sessions.Store.TryGet(clientId, out var one) ? [one] : [];
            var result = new List<SubscriptionInfo>();
            foreach (var session in sessions)
            {
                lock (session.SyncRoot)
                {
                    result.AddRange(session.Subscriptions.Values.Select(s => new SubscriptionInfo(
                        session.ClientId, s.Filter, (int)s.MaximumQoS, s.NoLocal, s.RetainAsPublished, (int)s.RetainHandling, s.SubscriptionIdentifier)));
                }
            }

            return result;
        });

        return endpoints;
    }

    private static ClientInfo Describe(MqttConnection connection)
    {
        var session = connection.Session!;
        int subscriptions, inflight;
        lock (session.SyncRoot)
        {
            subscriptions = session.Subscriptions.Count;
            inflight = session.Inflight.Count;
        }

        var stats = connection.Stats;
        return new ClientInfo(
            session.ClientId,
            connection.UserName,
            connection.ProtocolVersion switch { MqttProtocolVersion.V500 => "5.0", MqttProtocolVersion.V310 => "3.1", _ => "3.1.1" },
            connection.Transport.Listener,
            connection.Transport.RemoteEndPoint?.ToString(),
            connection.ConnectedAt,
            connection.KeepAliveSeconds,
            subscriptions,
            session.QueuedCount,
            inflight,
            stats.PublishesReceived0 + stats.PublishesReceived1 + stats.PublishesReceived2,
            stats.PublishesSent0 + stats.PublishesSent1 + stats.PublishesSent2);
    }

    private static async ValueTask<object?> RequireOperator(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.Management.ApiKey;
        if (key is null)
        {
            if (http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote))
            {
                return await next(context);
            }

            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "The management API answers loopback only unless Mqtt:Management:ApiKey is set.");
        }

        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key)))
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "A valid bearer key is required.");
        }

        return await next(context);
    }
}
