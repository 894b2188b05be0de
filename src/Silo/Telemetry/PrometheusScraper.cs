using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace AgentGateway.Silo.Telemetry;

/// <summary>
/// Collects the gateway's meters with the OpenTelemetry SDK and renders them in the Prometheus text
/// format on demand (<c>GET /metrics</c>). The SDK aggregates on the hot path; rendering happens only
/// when scraped.
/// </summary>
/// <remarks>OpenTelemetry's Prometheus exporter packages are not served here, so this small one stands in.</remarks>
public sealed class PrometheusScraper : IDisposable
{
    private readonly TextExporter _exporter = new();
    private readonly BaseExportingMetricReader _reader;
    private readonly MeterProvider _provider;
    private readonly Lock _gate = new();

    /// <param name="meters">The node's meter factory: only its meters are collected, so several nodes in one
    /// process (tests) never count each other's measurements.</param>
    public PrometheusScraper(IMeterFactory meters)
    {
        _reader = new BaseExportingMetricReader(_exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(GatewayMetrics.MeterName)
            .AddView(instrument => !ReferenceEquals(instrument.Meter.Scope, meters) ? MetricStreamConfiguration.Drop
                : instrument.Name == GatewayMetrics.ModelLatencyName ? new ExplicitBucketHistogramConfiguration { Boundaries = GatewayMetrics.LatencyBuckets }
                : null)
            .AddReader(_reader)
            .Build();
    }

    /// <summary>The current values, in the Prometheus text exposition format (version 0.0.4).</summary>
    public string Scrape()
    {
        lock (_gate)
        {
            _reader.Collect();
            return _exporter.Last;
        }
    }

    public void Dispose() => _provider.Dispose();

    private sealed class TextExporter : BaseExporter<Metric>
    {
        public string Last { get; private set; } = string.Empty;

        public override ExportResult Export(in Batch<Metric> batch)
        {
            var text = new StringBuilder();
            foreach (var metric in batch)
            {
                if (metric.MetricType == MetricType.Histogram)
                {
                    AppendHistogram(text, metric);
                    continue;
                }

                var (type, suffix) = metric.MetricType switch
                {
                    MetricType.LongSum or MetricType.DoubleSum => ("counter", "_total"),
                    MetricType.LongGauge or MetricType.DoubleGauge or MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => ("gauge", string.Empty),
                    _ => (null, string.Empty),
                };
                if (type is null)
                {
                    continue;
                }

                var name = Sanitize(metric.Name) + suffix;
                AppendHeader(text, name, metric.Description, type);
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var value = metric.MetricType switch
                    {
                        MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong().ToString(CultureInfo.InvariantCulture),
                        MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble().ToString(CultureInfo.InvariantCulture),
                        MetricType.LongGauge => point.GetGaugeLastValueLong().ToString(CultureInfo.InvariantCulture),
                        _ => point.GetGaugeLastValueDouble().ToString(CultureInfo.InvariantCulture),
                    };
                    AppendSample(text, name, point.Tags, null, value);
                }
            }

            Last = text.ToString();
            return ExportResult.Success;
        }

        /// <summary>A histogram as Prometheus expects it: cumulative <c>_bucket{le}</c> series, then <c>_sum</c> and <c>_count</c>.</summary>
        private static void AppendHistogram(StringBuilder text, Metric metric)
        {
            var name = Sanitize(metric.Name);
            AppendHeader(text, name, metric.Description, "histogram");
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                long cumulative = 0;
                foreach (var bucket in point.GetHistogramBuckets())
                {
                    cumulative += bucket.BucketCount;
                    var le = double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : bucket.ExplicitBound.ToString(CultureInfo.InvariantCulture);
                    AppendSample(text, name + "_bucket", point.Tags, le, cumulative.ToString(CultureInfo.InvariantCulture));
                }

                AppendSample(text, name + "_sum", point.Tags, null, point.GetHistogramSum().ToString(CultureInfo.InvariantCulture));
                AppendSample(text, name + "_count", point.Tags, null, point.GetHistogramCount().ToString(CultureInfo.InvariantCulture));
            }
        }

        private static void AppendHeader(StringBuilder text, string name, string? description, string type)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(description).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }

        private static void AppendSample(StringBuilder text, string name, ReadOnlyTagCollection tags, string? le, string value)
        {
            text.Append(name);
            var first = true;
            foreach (var tag in tags)
            {
                text.Append(first ? '{' : ',').Append(Sanitize(tag.Key)).Append("=\"")
                    .Append(Escape(Convert.ToString(tag.Value, CultureInfo.InvariantCulture))).Append('"');
                first = false;
            }

            if (le is not null)
            {
                text.Append(first ? '{' : ',').Append("le=\"").Append(le).Append('"');
                first = false;
            }

            if (!first)
            {
                text.Append('}');
            }

            text.Append(' ').Append(value).Append('\n');
        }

        private static string Sanitize(string name)
        {
            var chars = name.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
            {
                if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_' || chars[i] == ':'))
                {
                    chars[i] = '_';
                }
            }

            return new string(chars);
        }

        private static string Escape(string? value) =>
            (value ?? string.Empty).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }
}
