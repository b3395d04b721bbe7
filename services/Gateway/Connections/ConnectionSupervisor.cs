using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Gateway.Routing;
using Platform.Gateway.Telemetry;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Connections;

/// <summary>
/// One timer for all connections and sessions instead of one per connection: once a second it
/// closes connections whose keep-alive ran out [MQTT-3.1.2-22] or whose socket stopped taking data,
/// publishes wills whose delay passed, and ends sessions whose expiry passed (4.1).
/// </summary>
public sealed class ConnectionSupervisor(MqttBroker broker, ILogger<ConnectionSupervisor> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                Sweep();
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
            {
                logger.LogError(ex, "Supervisor sweep failed");
            }
        }
    }

    public void Sweep()
    {
        var now = Stopwatch.GetTimestamp();
        var stallLimit = (long)(broker.Options.Sessions.StalledWriteTimeout.TotalSeconds * Stopwatch.Frequency);
        foreach (var connection in broker.Connections)
        {
            if (connection.KeepAliveExpired(now))
            {
                logger.LogDebug("Keep-alive expired for {ClientId}", connection.ClientId);
                _ = connection.CloseAsync(ReasonCode.KeepAliveTimeout);
            }
            else if (connection.WriteStalled(now, stallLimit))
            {
                // A client that stops reading must not hold broker memory forever; its session
                // (if persistent) keeps the queued messages for when it comes back.
                logger.LogInformation("Disconnecting {ClientId}: socket accepted nothing for {Timeout}", connection.ClientId, broker.Options.Sessions.StalledWriteTimeout);
                broker.Telemetry.RecordDrop(DropReason.SlowConsumer);
                connection.Abort();
            }
        }

        foreach (var session in broker.Sessions.Store.All)
        {
            if (session.IsOnline)
            {
                continue;
            }

            Platform.Mqtt.Packets.MqttWillMessage? will = null;
            bool expired;
            lock (session.SyncRoot)
            {
                if (session.DisconnectedAt == 0)
                {
                    continue;
                }

                expired = Stopwatch.GetElapsedTime(session.DisconnectedAt, now).TotalSeconds >= session.ExpiryIntervalSeconds;
                if (session.PendingWill is not null && (expired || now >= session.WillDueAt))
                {
                    will = session.PendingWill;
                    session.PendingWill = null;
                }
            }

            if (will is not null)
            {
                broker.PublishWill(session.ClientId, will);
            }

            if (expired && broker.Sessions.TryEnd(session))
            {
                broker.EndSession(session);
            }
        }
    }
}
