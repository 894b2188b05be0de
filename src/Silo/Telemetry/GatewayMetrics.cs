using AgentGateway.Contracts.Breakers;
using System.Diagnostics.Metrics;

namespace AgentGateway.Silo.Telemetry;

/// <summary>The gateway's counters (meter <c>AgentGateway</c>); instruments cost nothing without a listener.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "AgentGateway";
    public const string ModelLatencyName = "gateway.model.latency";

    /// <summary>Bucket bounds of the model latency histogram, in seconds (up to the 30 s a request may take).</summary>
    public static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _trips;
    private readonly Counter<long> _modelCalls;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _modelLatency;
    private readonly Counter<long> _breakerTransitions;
    private readonly UpDownCounter<long> _sockets;
    private readonly Counter<long> _socketsClosed;
    private readonly Counter<long> _alertsRaised;
    private readonly Counter<long> _alertsSuppressed;
    private readonly Counter<long> _alertsDelivered;
    private readonly Counter<long> _alertsFailed;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _cacheStores;
    private readonly Counter<long> _rateLimited;

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("gateway.requests", "{request}", "Chat completion requests answered, by route.");
        _trips = meter.CreateCounter<long>("gateway.session.trips", "{trip}", "Sessions tripped by governance, by reason.");
        _modelCalls = meter.CreateCounter<long>("gateway.model.calls", "{call}", "Model calls made, by model and outcome.");
        _tokens = meter.CreateCounter<long>("gateway.tokens", "{token}", "Tokens reported by models, by direction.");
        _breakerTransitions = meter.CreateCounter<long>("gateway.breaker.transitions", "{transition}", "Circuit breaker state changes, by model, state entered and reason.");
        _sockets = meter.CreateUpDownCounter<long>("gateway.ws.connections", "{connection}", "Chat WebSockets open.");
        _socketsClosed = meter.CreateCounter<long>("gateway.ws.closed", "{connection}", "Chat WebSockets closed, by the close code the node chose (0: the client closed or vanished).");
        // No unit on purpose: the Prometheus exporter would append it to the name (gateway_model_latency_seconds)
        // and rename the series that dashboards and alert rules query; the description says it is seconds.
        _modelLatency = meter.CreateHistogram<double>(ModelLatencyName, unit: null, "Model call latency in seconds (to the answer, or to a stream's end), by model and outcome status class.");
        _retries = meter.CreateCounter<long>("gateway.model.retries", "{retry}", "Model calls retried after throttling or a transient error, by model.");
        _alertsRaised = meter.CreateCounter<long>("gateway.alerts.raised", "{alert}", "Alerts accepted into the outbox, by kind.");
        _alertsSuppressed = meter.CreateCounter<long>("gateway.alerts.suppressed", "{alert}", "Alerts dropped before the outbox, by kind and why (duplicate, rate_limited).");
        _alertsDelivered = meter.CreateCounter<long>("gateway.alerts.delivered", "{alert}", "Alerts a sink accepted, by sink.");
        _alertsFailed = meter.CreateCounter<long>("gateway.alerts.failed", "{attempt}", "Failed publish attempts (each is retried), by sink.");
        _cacheLookups = meter.CreateCounter<long>("gateway.cache.lookups", "{lookup}", "Answer cache lookups, by result (hit, miss); a failing cache counts a miss (and gateway.redis.errors).");
        _cacheStores = meter.CreateCounter<long>("gateway.cache.stores", "{answer}", "Answers stored in the answer cache.");
        _rateLimited = meter.CreateCounter<long>("gateway.ratelimit.rejected", "{request}", "Requests refused by a tenant rate limit, by tenant and limit (requests, tokens).");
    }

    public void Answered(string route) => _requests.Add(1, new KeyValuePair<string, object?>("route", route));

    public void Tripped(string reason) => _trips.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ModelCall(string model, string outcome) => _modelCalls.Add(
        1,
        new KeyValuePair<string, object?>("model", model),
        new KeyValuePair<string, object?>("outcome", outcome));

    public void BreakerTransition(string model, string to, string reason) => _breakerTransitions.Add(
        1,
        new KeyValuePair<string, object?>("model", model),
        new KeyValuePair<string, object?>("to", to),
        new KeyValuePair<string, object?>("reason", reason));

    /// <summary>One model call's latency; <paramref name="status"/> is the HTTP-style outcome reported to its breaker.</summary>
    public void ModelLatency(string model, int status, TimeSpan elapsed) => _modelLatency.Record(
        elapsed.TotalSeconds,
        new KeyValuePair<string, object?>("model", model),
        new KeyValuePair<string, object?>("status", status switch { < 300 => "ok", 499 => "client_closed", < 500 => "4xx", _ => "5xx" }));

    public void SocketOpened() => _sockets.Add(1);

    public void SocketClosed(int code)
    {
        _sockets.Add(-1);
        _socketsClosed.Add(1, new KeyValuePair<string, object?>("code", code));
    }

    public void Retried(string model) => _retries.Add(1, new KeyValuePair<string, object?>("model", model));

    public void Tokens(long input, long output)
    {
        _tokens.Add(input, new KeyValuePair<string, object?>("direction", "input"));
        _tokens.Add(output, new KeyValuePair<string, object?>("direction", "output"));
    }

    public void AlertRaised(string kind) => _alertsRaised.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void AlertSuppressed(string kind, string why) => _alertsSuppressed.Add(
        1,
        new KeyValuePair<string, object?>("kind", kind),
        new KeyValuePair<string, object?>("why", why));

    public void AlertDelivered(string sink) => _alertsDelivered.Add(1, new KeyValuePair<string, object?>("sink", sink));

    public void AlertFailed(string sink) => _alertsFailed.Add(1, new KeyValuePair<string, object?>("sink", sink));

    public void CacheLookup(bool hit) => _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void CacheStored() => _cacheStores.Add(1);

    public void RateLimited(string tenant, string limit) => _rateLimited.Add(
        1,
        new KeyValuePair<string, object?>("tenant", tenant),
        new KeyValuePair<string, object?>("limit", limit));
}
