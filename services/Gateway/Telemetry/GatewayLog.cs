using Microsoft.Extensions.Logging;
using Platform.Mqtt.Protocol;

namespace Platform.Gateway.Telemetry;

/// <summary>Log messages on paths that can run often; source-generated so a disabled level costs nothing.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Protocol error from {ClientId}: {Error}")]
    private static partial void ProtocolError(ILogger logger, string? clientId, string error);

    public static void LogDebugProtocolError(this ILogger logger, string? clientId, MqttProtocolException exception) =>
        ProtocolError(logger, clientId, exception.Message);
}
