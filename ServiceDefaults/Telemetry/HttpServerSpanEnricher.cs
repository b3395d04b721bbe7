using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Platform.ServiceDefaults.Telemetry;

/// <summary>
/// Completes ASP.NET Core's HTTP server span with the semantic-convention data that
/// OpenTelemetry.Instrumentation.AspNetCore would add and .NET 10 does not (it sets only the
/// request-start tags): <c>http.response.status_code</c>, <c>http.route</c>, the span name
/// <c>{method} {route}</c>, <c>network.protocol.version</c> and error status for 5xx and
/// unhandled exceptions (OpenTelemetry HTTP server span conventions).
/// </summary>
internal sealed class HttpServerSpanEnricher : IStartupFilter
{
    private const string HostingActivityName = "Microsoft.AspNetCore.Hosting.HttpRequestIn";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(EnrichAsync);
        next(app);
    };

    private static async Task EnrichAsync(HttpContext context, RequestDelegate next)
    {
        var activity = Activity.Current;
        if (activity is not { IsAllDataRequested: true } || activity.OperationName != HostingActivityName)
        {
            await next(context);
            return;
        }

        try
        {
            await next(context);
            Complete(activity, context, context.Response.StatusCode, exception: null);
        }
        catch (Exception ex)
        {
            // The server turns an unhandled exception into a 500 unless the response has started.
            Complete(activity, context, context.Response.HasStarted ? context.Response.StatusCode : 500, ex);
            throw;
        }
    }

    private static void Complete(Activity activity, HttpContext context, int statusCode, Exception? exception)
    {
        var method = context.Request.Method;
        activity.SetTag("http.response.status_code", statusCode);
        activity.SetTag("network.protocol.version", ProtocolVersion(context.Request.Protocol));

        if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
        {
            activity.SetTag("http.route", route);
            activity.DisplayName = $"{method} {route}";
        }
        else
        {
            activity.DisplayName = method;
        }

        if (exception is not null)
        {
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error);
        }
        else if (statusCode >= 500)
        {
            // Server spans treat 4xx as the client's error, not the server's.
            activity.SetTag("error.type", statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    private static string ProtocolVersion(string protocol) => protocol switch
    {
        "HTTP/1.1" => "1.1",
        "HTTP/2" => "2",
        "HTTP/3" => "3",
        "HTTP/1.0" => "1.0",
        _ => protocol,
    };
}
