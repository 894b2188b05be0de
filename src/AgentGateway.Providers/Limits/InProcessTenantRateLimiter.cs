using System.Collections.Concurrent;
using AgentGateway.Contracts.Limits;

namespace AgentGateway.Providers.Limits;

/// <summary>
/// The embedded default's tenant limits: the two token buckets of every tenant kept in this process, so they hold
/// for one node only. Same arithmetic as the Redis script (<c>AgentGateway.Redis</c>): levels are kept in
/// 1/60,000ths of a unit so that a refill of <c>limit</c> per minute is exactly <c>limit</c> per millisecond.
/// </summary>
public sealed class InProcessTenantRateLimiter : ITenantRateLimiter
{
    private readonly ConcurrentDictionary<string, Buckets> _tenants = new(StringComparer.Ordinal);

    public ValueTask<RateLimitDecision> TryAcquireAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (limits.IsUnlimited)
        {
            return ValueTask.FromResult(RateLimitDecision.Admitted);
        }

        var buckets = _tenants.GetOrAdd(tenant, static (_, ms) => new Buckets(ms), now.ToUnixTimeMilliseconds());
        lock (buckets)
        {
            return ValueTask.FromResult(buckets.TryAcquire(limits, Math.Max(0, tokens), now.ToUnixTimeMilliseconds()));
        }
    }

    public ValueTask ChargeAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!limits.LimitsTokens || tokens == 0)
        {
            return ValueTask.CompletedTask;
        }

        var buckets = _tenants.GetOrAdd(tenant, static (_, ms) => new Buckets(ms), now.ToUnixTimeMilliseconds());
        lock (buckets)
        {
            buckets.Charge(limits, tokens, now.ToUnixTimeMilliseconds());
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>One tenant's buckets; null level = full (never used, or the limit was just set).</summary>
    private sealed class Buckets(long createdMs)
    {
        private long? _requests;
        private long? _tokens;
        private long _lastMs = createdMs;

        public RateLimitDecision TryAcquire(TenantLimits limits, long tokens, long nowMs)
        {
            Refill(limits, nowMs);
            long requestWait = 0, tokenWait = 0;
            if (limits.RequestsPerMinute > 0)
            {
                requestWait = TokenBucket.WaitMs(_requests!.Value, TokenBucket.Scale, limits.RequestsPerMinute);
            }

            if (limits.TokensPerMinute > 0)
            {
                tokenWait = TokenBucket.WaitMs(_tokens!.Value, Math.Min(tokens, limits.TokensPerMinute) * TokenBucket.Scale, limits.TokensPerMinute);
            }

            if (requestWait > 0 || tokenWait > 0)
            {
                return requestWait >= tokenWait
                    ? RateLimitDecision.Refused(RateLimitKind.Requests, TimeSpan.FromMilliseconds(requestWait))
                    : RateLimitDecision.Refused(RateLimitKind.Tokens, TimeSpan.FromMilliseconds(tokenWait));
            }

            if (limits.RequestsPerMinute > 0)
            {
                _requests -= TokenBucket.Scale;
            }

            if (limits.TokensPerMinute > 0)
            {
                _tokens -= tokens * TokenBucket.Scale;
            }

            return RateLimitDecision.Admitted;
        }

        public void Charge(TenantLimits limits, long tokens, long nowMs)
        {
            Refill(limits, nowMs);
            _tokens = Math.Min(_tokens!.Value - (tokens * TokenBucket.Scale), limits.TokensPerMinute * TokenBucket.Scale);
        }

        private void Refill(TenantLimits limits, long nowMs)
        {
            // A clock behind the last one seen refills nothing (never backwards) and does not move the mark back.
            var elapsed = Math.Max(0, nowMs - _lastMs);
            _lastMs = Math.Max(_lastMs, nowMs);
            _requests = limits.RequestsPerMinute > 0 ? TokenBucket.Refill(_requests, elapsed, limits.RequestsPerMinute) : null;
            _tokens = limits.TokensPerMinute > 0 ? TokenBucket.Refill(_tokens, elapsed, limits.TokensPerMinute) : null;
        }
    }
}

/// <summary>The token-bucket arithmetic shared (as a specification) by the in-process and the Redis limiter.</summary>
public static class TokenBucket
{
    /// <summary>Levels are kept in 1/60,000ths: a bucket of <c>limit</c> per minute refills <c>limit</c> per millisecond.</summary>
    public const long Scale = 60_000;

    /// <summary>The level after <paramref name="elapsedMs"/> of refill, capped at a full bucket (one minute's allowance).</summary>
    public static long Refill(long? level, long elapsedMs, long perMinute)
    {
        var capacity = perMinute * Scale;
        if (level is not { } current || current >= capacity)
        {
            return capacity;
        }

        // Compared by division first so that a long idle time cannot overflow the product.
        var missing = capacity - current;
        return elapsedMs >= (missing + perMinute - 1) / perMinute ? capacity : current + (elapsedMs * perMinute);
    }

    /// <summary>Milliseconds until <paramref name="level"/> reaches <paramref name="need"/> (0 when it already has).</summary>
    public static long WaitMs(long level, long need, long perMinute) =>
        level >= need ? 0 : (need - level + perMinute - 1) / perMinute;
}
