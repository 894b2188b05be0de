using AgentGateway.Contracts.Limits;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Limits;

/// <summary>
/// The node's door to the tenants' RPM and TPM limits: each tenant's configured limits (its own, else
/// <c>Gateway:Limits</c>), the limiter behind them (Redis across nodes, or in process), the node's clock and the
/// metric of refused requests. A tenant with no limits never reaches the limiter.
/// </summary>
public sealed class TenantRateLimits
{
    private readonly ITenantRateLimiter _limiter;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, TenantLimits> _limits = new(StringComparer.Ordinal);
    private readonly TenantLimits _default;

    public TenantRateLimits(ITenantRateLimiter limiter, IOptions<AuthOptions> auth, GatewayMetrics metrics, TimeProvider time)
    {
        _limiter = limiter;
        _metrics = metrics;
        _time = time;
        var options = auth.Value;
        _default = new TenantLimits(options.Limits?.RequestsPerMinute ?? 0, options.Limits?.TokensPerMinute ?? 0);
        foreach (var (name, tenant) in options.Tenants)
        {
            _limits[name] = new TenantLimits(tenant?.RequestsPerMinute ?? _default.RequestsPerMinute, tenant?.TokensPerMinute ?? _default.TokensPerMinute);
        }
    }

    /// <summary>The limits of <paramref name="tenant"/> (the default ones for the implicit tenant and unknown names).</summary>
    public TenantLimits LimitsOf(string tenant) => _limits.TryGetValue(tenant, out var limits) ? limits : _default;

    /// <summary>Admits one model request of <paramref name="estimatedTokens"/> input tokens, or says how long to wait.</summary>
    public async ValueTask<RateLimitDecision> TryAcquireAsync(string tenant, long estimatedTokens, CancellationToken cancellationToken)
    {
        var limits = LimitsOf(tenant);
        if (limits.IsUnlimited)
        {
            return RateLimitDecision.Admitted;
        }

        var decision = await _limiter.TryAcquireAsync(tenant, limits, estimatedTokens, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            _metrics.RateLimited(tenant, decision.LimitName!);
        }

        return decision;
    }

    /// <summary>
    /// Settles a request's tokens against its admission estimate: <c>input + output - estimate</c> more (negative:
    /// given back). A cache hit settles with 0 and 0: it used no model tokens.
    /// </summary>
    public ValueTask SettleAsync(string tenant, long estimatedTokens, long inputTokens, long outputTokens, CancellationToken cancellationToken)
    {
        var limits = LimitsOf(tenant);
        var delta = inputTokens + outputTokens - Math.Max(0, estimatedTokens);
        return limits.LimitsTokens && delta != 0
            ? _limiter.ChargeAsync(tenant, limits, delta, _time.GetUtcNow(), cancellationToken)
            : ValueTask.CompletedTask;
    }
}
