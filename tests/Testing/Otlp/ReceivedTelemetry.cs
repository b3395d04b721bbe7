using Platform.Testing.Otlp.Proto.Common;
using Platform.Testing.Otlp.Proto.Logs;
using Platform.Testing.Otlp.Proto.Metrics;
using Platform.Testing.Otlp.Proto.Resource;
using Platform.Testing.Otlp.Proto.Trace;

namespace Platform.Testing.Otlp;

/// <summary>One span as received, with the resource and scope it was exported under.</summary>
public sealed class ReceivedSpan(Resource resource, InstrumentationScope scope, Span span)
{
    public Span Span { get; } = span;
    public string ServiceName { get; } = resource.Attributes.GetString("service.name") ?? "";
    public IReadOnlyDictionary<string, object?> ResourceAttributes { get; } = resource.Attributes.ToDictionary();
    public string ScopeName { get; } = scope?.Name ?? "";
    public string Name => Span.Name;
    public Span.Types.SpanKind Kind => Span.Kind;
    public string TraceId { get; } = Convert.ToHexStringLower(span.TraceId.Span);
    public string SpanId { get; } = Convert.ToHexStringLower(span.SpanId.Span);
    public string ParentSpanId { get; } = Convert.ToHexStringLower(span.ParentSpanId.Span);
    public IReadOnlyDictionary<string, object?> Attributes { get; } = span.Attributes.ToDictionary();

    public override string ToString() => $"{ServiceName}: {Kind} '{Name}' trace={TraceId} span={SpanId} parent={ParentSpanId}";
}

/// <summary>One metric as received (all its data points), with its resource and meter.</summary>
public sealed class ReceivedMetric(Resource resource, InstrumentationScope scope, Metric metric)
{
    public Metric Metric { get; } = metric;
    public string ServiceName { get; } = resource.Attributes.GetString("service.name") ?? "";
    public string ScopeName { get; } = scope?.Name ?? "";
    public string Name => Metric.Name;

    public override string ToString() => $"{ServiceName}: {ScopeName}/{Name} ({Metric.DataCase})";
}

/// <summary>One log record as received, with its resource and category.</summary>
public sealed class ReceivedLog(Resource resource, InstrumentationScope scope, LogRecord record)
{
    public LogRecord Record { get; } = record;
    public string ServiceName { get; } = resource.Attributes.GetString("service.name") ?? "";
    public string Category { get; } = scope?.Name ?? "";
    public string Body => Record.Body?.StringValue ?? "";
    public string TraceId { get; } = Convert.ToHexStringLower(record.TraceId.Span);

    public override string ToString() => $"{ServiceName}: [{Record.SeverityText}] {Category}: {Body}";
}

public static class OtlpAttributeExtensions
{
    public static string? GetString(this IEnumerable<KeyValue> attributes, string key) =>
        attributes.FirstOrDefault(a => a.Key == key)?.Value?.StringValue;

    public static IReadOnlyDictionary<string, object?> ToDictionary(this IEnumerable<KeyValue> attributes) =>
        attributes.GroupBy(a => a.Key).ToDictionary(g => g.Key, g => ToClr(g.Last().Value));

    public static object? ToClr(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToByteArray(),
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(ToClr).ToArray(),
        AnyValue.ValueOneofCase.KvlistValue => value.KvlistValue.Values.ToDictionary(),
        _ => null,
    };
}
