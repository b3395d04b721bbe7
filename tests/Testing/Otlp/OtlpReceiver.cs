using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Platform.Testing.Otlp.Proto.Collector;

namespace Platform.Testing.Otlp;

/// <summary>
/// An OpenTelemetry collector in the test process: it accepts OTLP/HTTP (protobuf) and OTLP/gRPC
/// exports on loopback and keeps every span, metric and log record it decodes, so a test can
/// assert what one or several services exported (for example, that one trace spans them all).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const string TraceGrpcPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    private const string MetricsGrpcPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private const string LogsGrpcPath = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly List<ReceivedMetric> _metrics = [];
    private readonly List<ReceivedLog> _logs = [];
    private TaskCompletionSource _changed = NewSignal();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>Base URL for OTLP/HTTP (<c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>).</summary>
    public Uri HttpEndpoint { get; private set; } = null!;

    /// <summary>Base URL for OTLP/gRPC over cleartext HTTP/2 (<c>OTEL_EXPORTER_OTLP_PROTOCOL=grpc</c>).</summary>
    public Uri GrpcEndpoint { get; private set; } = null!;

    /// <summary>Number of export requests received, of any signal.</summary>
    public int ExportRequests { get; private set; }

    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        ListenOptions? http = null, grpc = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => { listen.Protocols = HttpProtocols.Http1; http = listen; });
            kestrel.Listen(IPAddress.Loopback, 0, listen => { listen.Protocols = HttpProtocols.Http2; grpc = listen; });
        });

        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        receiver.MapRoutes(app);
        await app.StartAsync(cancellationToken);

        // Kestrel writes the bound port back into the listen options once it has bound port 0.
        receiver.HttpEndpoint = new Uri($"http://127.0.0.1:{http!.IPEndPoint!.Port}");
        receiver.GrpcEndpoint = new Uri($"http://127.0.0.1:{grpc!.IPEndPoint!.Port}");
        return receiver;
    }

    /// <summary>Configuration a service needs to export here (the keys AppHost would set).</summary>
    public IReadOnlyDictionary<string, string?> ExporterSettings(string protocol = "http/protobuf") => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = (protocol == "grpc" ? GrpcEndpoint : HttpEndpoint).ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol,
        // Short intervals so tests do not wait for the SDK's 5 s / 60 s defaults.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
    };

    public IReadOnlyList<ReceivedSpan> Spans { get { lock (_gate) { return [.. _spans]; } } }

    public IReadOnlyList<ReceivedMetric> Metrics { get { lock (_gate) { return [.. _metrics]; } } }

    public IReadOnlyList<ReceivedLog> Logs { get { lock (_gate) { return [.. _logs]; } } }

    public Task<ReceivedSpan> WaitForSpanAsync(Func<ReceivedSpan, bool> match, TimeSpan? timeout = null) =>
        WaitForAsync(() => Spans.FirstOrDefault(match), "span", timeout);

    public Task<ReceivedMetric> WaitForMetricAsync(Func<ReceivedMetric, bool> match, TimeSpan? timeout = null) =>
        WaitForAsync(() => Metrics.FirstOrDefault(match), "metric", timeout);

    public Task<ReceivedLog> WaitForLogAsync(Func<ReceivedLog, bool> match, TimeSpan? timeout = null) =>
        WaitForAsync(() => Logs.FirstOrDefault(match), "log record", timeout);

    /// <summary>Waits until the spans of <paramref name="traceId"/> satisfy <paramref name="complete"/>.</summary>
    public Task<IReadOnlyList<ReceivedSpan>> WaitForTraceAsync(
        string traceId, Func<IReadOnlyList<ReceivedSpan>, bool> complete, TimeSpan? timeout = null) =>
        WaitForAsync(() =>
        {
            IReadOnlyList<ReceivedSpan> trace = Spans.Where(s => s.TraceId == traceId).ToList();
            return complete(trace) ? trace : null;
        }, $"trace {traceId}", timeout);

    private async Task<T> WaitForAsync<T>(Func<T?> probe, string what, TimeSpan? timeout)
        where T : class
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultWait);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (probe() is { } found)
            {
                return found;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException(
                    $"No matching {what} arrived within {timeout ?? DefaultWait}. Received so far:{Environment.NewLine}{Describe()}");
            }
        }
    }

    private string Describe()
    {
        lock (_gate)
        {
            return string.Join(Environment.NewLine, _spans.Select(s => "  span   " + s)
                .Concat(_metrics.Select(m => "  metric " + m).Take(50))
                .Concat(_logs.Select(l => "  log    " + l).Take(20)));
        }
    }

    private void MapRoutes(WebApplication app)
    {
        app.MapPost("/v1/traces", context => HandleHttpAsync(context, ExportTraceServiceRequest.Parser, Store, new ExportTraceServiceResponse()));
        app.MapPost("/v1/metrics", context => HandleHttpAsync(context, ExportMetricsServiceRequest.Parser, Store, new ExportMetricsServiceResponse()));
        app.MapPost("/v1/logs", context => HandleHttpAsync(context, ExportLogsServiceRequest.Parser, Store, new ExportLogsServiceResponse()));
        app.MapPost(TraceGrpcPath, context => HandleGrpcAsync(context, ExportTraceServiceRequest.Parser, Store, new ExportTraceServiceResponse()));
        app.MapPost(MetricsGrpcPath, context => HandleGrpcAsync(context, ExportMetricsServiceRequest.Parser, Store, new ExportMetricsServiceResponse()));
        app.MapPost(LogsGrpcPath, context => HandleGrpcAsync(context, ExportLogsServiceRequest.Parser, Store, new ExportLogsServiceResponse()));
    }

    private static async Task HandleHttpAsync<TRequest>(
        HttpContext context, MessageParser<TRequest> parser, Action<TRequest> store, IMessage response)
        where TRequest : IMessage<TRequest>
    {
        var contentType = context.Request.ContentType ?? "";
        if (!contentType.StartsWith("application/x-protobuf", StringComparison.OrdinalIgnoreCase))
        {
            // OTLP/HTTP JSON is valid OTLP but none of our exporters use it.
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        var body = await ReadBodyAsync(context.Request.Body, context.Request.Headers.ContentEncoding == "gzip");
        TRequest request;
        try
        {
            request = parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        store(request);
        context.Response.ContentType = "application/x-protobuf";
        await context.Response.Body.WriteAsync(response.ToByteArray());
    }

    private static async Task HandleGrpcAsync<TRequest>(
        HttpContext context, MessageParser<TRequest> parser, Action<TRequest> store, IMessage response)
        where TRequest : IMessage<TRequest>
    {
        // gRPC framing: 1 byte compressed flag, 4 bytes big-endian length, then the message.
        var frame = await ReadBodyAsync(context.Request.Body, gzip: false);
        var status = 0;
        var message = "";
        if (frame.Length < 5 || BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1)) != frame.Length - 5)
        {
            (status, message) = (13, "malformed gRPC frame");
        }
        else
        {
            var payload = frame.AsMemory(5);
            if (frame[0] == 1)
            {
                payload = await ReadBodyAsync(new MemoryStream(payload.ToArray()), gzip: true);
            }

            try
            {
                store(parser.ParseFrom(payload.Span));
            }
            catch (InvalidProtocolBufferException ex)
            {
                (status, message) = (13, ex.Message);
            }
        }

        context.Response.ContentType = "application/grpc";
        if (status == 0)
        {
            var bytes = response.ToByteArray();
            var reply = new byte[5 + bytes.Length];
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(1), (uint)bytes.Length);
            bytes.CopyTo(reply, 5);
            await context.Response.Body.WriteAsync(reply);
        }

        context.Response.AppendTrailer("grpc-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message.Length > 0)
        {
            context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(message));
        }
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, bool gzip)
    {
        using var buffer = new MemoryStream();
        if (gzip)
        {
            await using var inflater = new GZipStream(body, CompressionMode.Decompress);
            await inflater.CopyToAsync(buffer);
        }
        else
        {
            await body.CopyToAsync(buffer);
        }

        return buffer.ToArray();
    }

    private void Store(ExportTraceServiceRequest request)
    {
        var received = request.ResourceSpans
            .SelectMany(r => r.ScopeSpans.SelectMany(s => s.Spans.Select(span => new ReceivedSpan(r.Resource, s.Scope, span))))
            .ToList();
        Add(_spans, received);
    }

    private void Store(ExportMetricsServiceRequest request)
    {
        var received = request.ResourceMetrics
            .SelectMany(r => r.ScopeMetrics.SelectMany(s => s.Metrics.Select(m => new ReceivedMetric(r.Resource, s.Scope, m))))
            .ToList();
        Add(_metrics, received);
    }

    private void Store(ExportLogsServiceRequest request)
    {
        var received = request.ResourceLogs
            .SelectMany(r => r.ScopeLogs.SelectMany(s => s.LogRecords.Select(l => new ReceivedLog(r.Resource, s.Scope, l))))
            .ToList();
        Add(_logs, received);
    }

    private void Add<T>(List<T> target, List<T> items)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            target.AddRange(items);
            ExportRequests++;
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
