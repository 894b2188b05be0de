using AgentGateway.Contracts.Limits;
using AgentGateway.TestSupport;

namespace AgentGateway.Redis.Tests;

/// <summary>
/// The semantics every <see cref="ITenantRateLimiter"/> keeps (the in-process one and the Redis script), on a fake
/// clock with exact values: a bucket of N per minute refills one unit every 60/N seconds.
/// </summary>
public abstract class TenantRateLimiterContract : IAsyncLifetime
{
    protected FakeTimeProvider Time { get; } = new();

    protected ITenantRateLimiter Limiter { get; private set; } = null!;

    protected abstract Task<ITenantRateLimiter> CreateAsync();

    public async Task InitializeAsync() => Limiter = await CreateAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private ValueTask<RateLimitDecision> AcquireAsync(TenantLimits limits, long tokens = 0, string tenant = "acme") =>
        Limiter.TryAcquireAsync(tenant, limits, tokens, Time.GetUtcNow(), CancellationToken.None);

    [Fact]
    public async Task Requests_FullBucketThenExactRefill()
    {
        var limits = new TenantLimits(3, 0);
        for (var i = 0; i < 3; i++)
        {
            (await AcquireAsync(limits)).Allowed.ShouldBeTrue();
        }

        var refused = await AcquireAsync(limits);
        refused.ShouldBe(RateLimitDecision.Refused(RateLimitKind.Requests, TimeSpan.FromSeconds(20)));
        refused.RetryAfterSeconds.ShouldBe(20);

        Time.Advance(TimeSpan.FromMilliseconds(19_999));
        (await AcquireAsync(limits)).ShouldBe(RateLimitDecision.Refused(RateLimitKind.Requests, TimeSpan.FromMilliseconds(1)));
        Time.Advance(TimeSpan.FromMilliseconds(1));
        (await AcquireAsync(limits)).ShouldBe(RateLimitDecision.Admitted);
        (await AcquireAsync(limits)).RetryAfter.ShouldBe(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Tenants_HaveBucketsOfTheirOwn()
    {
        var limits = new TenantLimits(1, 0);
        (await AcquireAsync(limits, tenant: "acme")).Allowed.ShouldBeTrue();
        (await AcquireAsync(limits, tenant: "acme")).Allowed.ShouldBeFalse();
        (await AcquireAsync(limits, tenant: "globex")).Allowed.ShouldBeTrue();
    }

    [Fact]
    public async Task Tokens_ChargedAtAdmissionThenOutputIntoDebt()
    {
        var limits = new TenantLimits(0, 600);
        (await AcquireAsync(limits, 400)).Allowed.ShouldBeTrue();

        // 200 left, 400 asked: 200 missing at 600 a minute = 20 s.
        (await AcquireAsync(limits, 400)).ShouldBe(RateLimitDecision.Refused(RateLimitKind.Tokens, TimeSpan.FromSeconds(20)));

        // The answer's 300 output tokens: the bucket owes 100; 50 more need 150 = 15 s.
        await Limiter.ChargeAsync("acme", limits, 300, Time.GetUtcNow(), CancellationToken.None);
        (await AcquireAsync(limits, 50)).ShouldBe(RateLimitDecision.Refused(RateLimitKind.Tokens, TimeSpan.FromSeconds(15)));
        Time.Advance(TimeSpan.FromSeconds(15));
        (await AcquireAsync(limits, 50)).Allowed.ShouldBeTrue();
    }

    [Fact]
    public async Task Tokens_RefundNeverAboveAFullBucket()
    {
        var limits = new TenantLimits(0, 600);
        (await AcquireAsync(limits, 600)).Allowed.ShouldBeTrue();
        await Limiter.ChargeAsync("acme", limits, -10_000, Time.GetUtcNow(), CancellationToken.None);
        (await AcquireAsync(limits, 600)).Allowed.ShouldBeTrue();
        (await AcquireAsync(limits, 1)).ShouldBe(RateLimitDecision.Refused(RateLimitKind.Tokens, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task Tokens_RequestLargerThanTheBucket_PassesWhenFullAndLeavesDebt()
    {
        var limits = new TenantLimits(0, 100);
        (await AcquireAsync(limits, 250)).Allowed.ShouldBeTrue();

        // -150 now; 10 tokens need 160 = 96 s at 100 a minute.
        (await AcquireAsync(limits, 10)).ShouldBe(RateLimitDecision.Refused(RateLimitKind.Tokens, TimeSpan.FromSeconds(96)));
    }

    [Fact]
    public async Task BothBuckets_RefusedByOneChargesNeither()
    {
        var limits = new TenantLimits(2, 100);
        (await AcquireAsync(limits, 100)).Allowed.ShouldBeTrue();
        (await AcquireAsync(limits, 50)).Limit.ShouldBe(RateLimitKind.Tokens);

        // The refused request took no request: one is left.
        (await AcquireAsync(limits, 0)).Allowed.ShouldBeTrue();
        var refused = await AcquireAsync(limits, 0);
        refused.Limit.ShouldBe(RateLimitKind.Requests);
        refused.RetryAfter.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Refused_ByTheLongerWait()
    {
        var limits = new TenantLimits(1, 60);
        (await AcquireAsync(limits, 60)).Allowed.ShouldBeTrue();

        // Requests: 60 s; tokens: 30 missing at 60 a minute = 30 s.
        (await AcquireAsync(limits, 30)).ShouldBe(RateLimitDecision.Refused(RateLimitKind.Requests, TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task ClockBehind_NeverRefillsBackwards()
    {
        var limits = new TenantLimits(1, 0);
        var start = Time.GetUtcNow();
        (await Limiter.TryAcquireAsync("acme", limits, 0, start + TimeSpan.FromSeconds(30), CancellationToken.None)).Allowed.ShouldBeTrue();

        // A node whose clock is 30 s behind: nothing refilled, and the wait counts from the latest time seen.
        (await Limiter.TryAcquireAsync("acme", limits, 0, start, CancellationToken.None))
            .ShouldBe(RateLimitDecision.Refused(RateLimitKind.Requests, TimeSpan.FromSeconds(60)));
        (await Limiter.TryAcquireAsync("acme", limits, 0, start + TimeSpan.FromSeconds(89), CancellationToken.None)).Allowed.ShouldBeFalse();
        (await Limiter.TryAcquireAsync("acme", limits, 0, start + TimeSpan.FromSeconds(90), CancellationToken.None)).Allowed.ShouldBeTrue();
    }

    [Fact]
    public async Task Unlimited_AlwaysAdmitted()
    {
        for (var i = 0; i < 100; i++)
        {
            (await AcquireAsync(TenantLimits.Unlimited, 1_000_000)).ShouldBe(RateLimitDecision.Admitted);
        }
    }

    [Fact]
    public async Task ManyConcurrentCallers_ExactlyTheLimitAdmitted()
    {
        var limits = new TenantLimits(50, 0);
        var decisions = await Task.WhenAll(Enumerable.Range(0, 400).Select(_ => Task.Run(() => AcquireAsync(limits, 1).AsTask())));
        decisions.Count(d => d.Allowed).ShouldBe(50);
        decisions.Where(d => !d.Allowed).ShouldAllBe(d => d.Limit == RateLimitKind.Requests);
    }
}

public sealed class InProcessTenantRateLimiterTests : TenantRateLimiterContract
{
    protected override Task<ITenantRateLimiter> CreateAsync() => Task.FromResult<ITenantRateLimiter>(new Providers.Limits.InProcessTenantRateLimiter());
}

public sealed class RedisTenantRateLimiterTests(RedisFixture redis) : TenantRateLimiterContract, IClassFixture<RedisFixture>
{
    private RedisClient? _client;

    protected override Task<ITenantRateLimiter> CreateAsync()
    {
        _client = new RedisClient(redis.Server.Configuration, Time);
        return Task.FromResult<ITenantRateLimiter>(new RedisTenantRateLimiter(_client.Connection, _client.Failures));
    }

    public override async Task DisposeAsync()
    {
        _client?.Failures.Count.ShouldBe(0);
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Key_ExpiresOnceTheBucketsWouldBeFull()
    {
        var limiter = (RedisTenantRateLimiter)Limiter;
        (await limiter.TryAcquireAsync("acme", new TenantLimits(6, 0), 0, Time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();
        var db = await _client!.Connection.GetDatabaseAsync(CancellationToken.None);
        var ttl = await db.KeyTimeToLiveAsync(limiter.KeyOf("acme"));

        // One request of 6 a minute refills in 10 s; the key lives that long plus a second.
        ttl.ShouldNotBeNull();
        ttl.Value.ShouldBeInRange(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11));
        limiter.KeyOf("acme").ShouldBe(_client.Prefix + "limits:{acme}");
    }

    [Fact]
    public async Task ScriptCacheFlushed_LoadedAgainAndTheBucketKept()
    {
        var limits = new TenantLimits(2, 0);
        (await Limiter.TryAcquireAsync("acme", limits, 0, Time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();

        // As after a Redis restart or a SCRIPT FLUSH: the client's EVALSHA gets NOSCRIPT, loads the script and retries.
        var db = await _client!.Connection.GetDatabaseAsync(CancellationToken.None);
        (await db.ExecuteAsync("SCRIPT", "FLUSH")).ToString().ShouldBe("OK");

        (await Limiter.TryAcquireAsync("acme", limits, 0, Time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();
        (await Limiter.TryAcquireAsync("acme", limits, 0, Time.GetUtcNow(), CancellationToken.None))
            .ShouldBe(RateLimitDecision.Refused(RateLimitKind.Requests, TimeSpan.FromSeconds(30)));
    }
}
