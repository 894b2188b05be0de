using System.Diagnostics.Metrics;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace AgentGateway.Silo.Hosting;

/// <summary>
/// The node's metrics: the gateway meter (<see cref="GatewayMetrics"/>), aggregated by the OpenTelemetry SDK and
/// served by its Prometheus exporter at <c>GET /metrics</c>, in the text exposition format version 0.0.4 unless a
/// scraper asks for OpenMetrics.
/// </summary>
public static class MetricsHostingExtensions
{
    /// <summary>Where Prometheus scrapes; public, like health (the auth middleware guards only <c>/admin</c> and <c>/v1</c>).</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>The exporter's media type for the classic text format, which it serves when no OpenMetrics is asked for.</summary>
    public const string PrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The instruments, this node's meter enabled for the OpenTelemetry SDK, and the Prometheus exporter.</summary>
    public static IServiceCollection AddGatewayMetrics(this IServiceCollection services)
    {
        services.AddSingleton<GatewayMetrics>();

        // Local scope: only meters created by this node's IMeterFactory, so several nodes in one process
        // (the tests) never count each other's measurements, though their meters share one name.
        services.AddMetrics(static metrics => metrics.EnableMetrics(GatewayMetrics.MeterName, instrumentName: null, listenerName: null, MeterScope.Local));
        services.AddOpenTelemetry().WithMetrics(static metrics => metrics
            .AddView(GatewayMetrics.ModelLatencyName, new ExplicitBucketHistogramConfiguration { Boundaries = GatewayMetrics.LatencyBuckets })
            .AddPrometheusExporter(static exporter =>
            {
                // Every scrape collects afresh: a cached answer would hide what happened in the last 300 ms
                // (the default) from a scraper, or from a test comparing two scrapes.
                exporter.ScrapeResponseCacheDurationMilliseconds = 0;

                // The series stay as clients and alert rules know them: no otel_scope_* label on every
                // series (one meter, so it tells nothing) and no target_info series.
                exporter.ScopeInfoEnabled = false;
                exporter.TargetInfoEnabled = false;
            }));
        return services;
    }

    /// <summary>The scrape endpoint, answering GET only.</summary>
    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(ScrapePath, meterProvider: null, static branch => branch.Use(EmptyScrapeAsTextAsync), optionsName: null)
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        return app;
    }

    /// <summary>
    /// Until something is measured the exporter answers 200 with no body and no <c>Content-Type</c>, and Prometheus 3
    /// fails a scrape without one; an empty text exposition is what that answer means.
    /// </summary>
    private static async Task EmptyScrapeAsTextAsync(HttpContext context, RequestDelegate next)
    {
        await next(context).ConfigureAwait(false);
        var response = context.Response;
        if (!response.HasStarted && response.StatusCode == StatusCodes.Status200OK && response.ContentType is null)
        {
            response.ContentType = PrometheusTextContentType;
        }
    }
}
