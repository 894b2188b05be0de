using AgentGateway.Contracts.Limits;
using StackExchange.Redis;

namespace AgentGateway.Redis;

/// <summary>
/// The tenants' RPM and TPM limits shared by every node: both token buckets of a tenant live in one Redis hash
/// (<c>{prefix}limits:{tenant}</c>) and one Lua script checks and charges them atomically, so N admissions per
/// minute means N across the whole cluster, however the requests are spread.
/// </summary>
/// <remarks>
/// <para><b>Clock.</b> The script does not read Redis's clock: each node passes its own (its injected
/// <see cref="TimeProvider"/>), so the nodes' clocks are assumed synchronised (NTP). The bucket keeps the latest time it
/// has seen and never refills backwards: a node whose clock is behind refills nothing until its clock passes that
/// mark, and a node ahead by S refills at most S early, once. Skew therefore never mints more than S worth of allowance.</para>
/// <para><b>Redis down.</b> The limits fail open: a request Redis cannot decide on within the operation timeout is
/// admitted (counted in <c>gateway.redis.errors{operation="limit_acquire"}</c> and logged, rate-limited). Session
/// governance still bounds every agent; refusing every tenant because the shared store is down would turn a cache
/// outage into a full outage.</para>
/// </remarks>
public sealed class RedisTenantRateLimiter(RedisConnection redis, RedisFailures failures) : ITenantRateLimiter
{
    /// <summary>
    /// @key: the tenant's hash (fields r, t: request and token levels in 1/60000ths; ts: last time seen, ms).
    /// @now (ms), @rpm and @tpm (per minute, 0: unlimited), @tokens, @mode ('acquire' or 'charge').
    /// Returns {allowed 1|0, limit 0|1 requests|2 tokens, wait ms}. Same arithmetic as InProcessTenantRateLimiter.
    /// The client loads it once per server (SCRIPT LOAD) and then sends only its SHA1 (EVALSHA); after a NOSCRIPT
    /// (Redis restarted or its script cache flushed) it loads it again and retries.
    /// </summary>
    internal static readonly LuaScript Script = LuaScript.Prepare("""
        local scale = 60000
        local now = tonumber(@now)
        local rpm = tonumber(@rpm)
        local tpm = tonumber(@tpm)
        local tokens = tonumber(@tokens)
        local acquire = @mode == 'acquire'
        local key = @key
        local state = redis.call('HMGET', key, 'r', 't', 'ts')
        local last = tonumber(state[3])
        local elapsed = 0
        if last == nil then
          last = now
        elseif now > last then
          elapsed = now - last
          last = now
        end
        local function refill(level, limit)
          local capacity = limit * scale
          if level == nil or level >= capacity then return capacity end
          local missing = capacity - level
          if elapsed >= math.floor((missing + limit - 1) / limit) then return capacity end
          return level + elapsed * limit
        end
        local function wait(level, need, limit)
          if level >= need then return 0 end
          return math.floor((need - level + limit - 1) / limit)
        end
        local r = nil
        local t = nil
        if rpm > 0 then r = refill(tonumber(state[1]), rpm) end
        if tpm > 0 then t = refill(tonumber(state[2]), tpm) end
        if acquire then
          local rw = 0
          local tw = 0
          if r then rw = wait(r, scale, rpm) end
          if t then tw = wait(t, math.min(tokens, tpm) * scale, tpm) end
          if rw > 0 or tw > 0 then
            if rw >= tw then return {0, 1, rw} end
            return {0, 2, tw}
          end
          if r then r = r - scale end
          if t then t = t - tokens * scale end
        elseif t then
          t = math.min(t - tokens * scale, tpm * scale)
        end
        local ttl = 1000
        if r then
          redis.call('HSET', key, 'r', string.format('%.0f', r))
          ttl = math.max(ttl, 1000 + wait(r, rpm * scale, rpm))
        end
        if t then
          redis.call('HSET', key, 't', string.format('%.0f', t))
          ttl = math.max(ttl, 1000 + wait(t, tpm * scale, tpm))
        end
        redis.call('HSET', key, 'ts', string.format('%.0f', last))
        redis.call('PEXPIRE', key, string.format('%.0f', ttl))
        return {1, 0, 0}
        """);

    public async ValueTask<RateLimitDecision> TryAcquireAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (limits.IsUnlimited)
        {
            return RateLimitDecision.Admitted;
        }

        try
        {
            var result = await EvaluateAsync(tenant, limits, Math.Max(0, tokens), now, "acquire", cancellationToken).ConfigureAwait(false);
            return (long)result[0] == 1
                ? RateLimitDecision.Admitted
                : RateLimitDecision.Refused((RateLimitKind)(int)(long)result[1], TimeSpan.FromMilliseconds((long)result[2]));
        }
        catch (Exception ex) when (RedisResponseCache.IsRedisFailure(ex, cancellationToken))
        {
            failures.Record("limit_acquire", ex);
            return RateLimitDecision.Admitted;
        }
    }

    public async ValueTask ChargeAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!limits.LimitsTokens || tokens == 0)
        {
            return;
        }

        try
        {
            await EvaluateAsync(tenant, limits, tokens, now, "charge", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisResponseCache.IsRedisFailure(ex, cancellationToken))
        {
            failures.Record("limit_charge", ex);
        }
    }

    /// <summary>The Redis key of a tenant's buckets.</summary>
    public string KeyOf(string tenant) => redis.KeyPrefix + "limits:{" + tenant + "}";

    private Task<RedisResult> EvaluateAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, string mode, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            key = (RedisKey)KeyOf(tenant),
            now = now.ToUnixTimeMilliseconds(),
            rpm = Math.Max(0, limits.RequestsPerMinute),
            tpm = Math.Max(0, limits.TokensPerMinute),
            tokens,
            mode,
        };
        return redis.RunAsync(db => db.ScriptEvaluateAsync(Script, parameters), cancellationToken);
    }
}
