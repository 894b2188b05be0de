using AgentGateway.Contracts.Caching;
using AgentGateway.TestSupport;

namespace AgentGateway.Redis.Tests;

public sealed class RedisResponseCacheTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly FakeTimeProvider _time = new();
    private RedisClient? _client;

    private RedisResponseCache NewCache(TimeSpan? operationTimeout = null)
    {
        _client = new RedisClient(redis.Server.Configuration, _time, operationTimeout);
        return new RedisResponseCache(_client.Connection, Ttl, _time, _client.Failures);
    }

    [Fact]
    public async Task SetThenGet_TheAnswerWithRedisTtlOfFiveMinutes()
    {
        var cache = NewCache();
        var answer = new CachedAnswer("haiku", "Lisbon.", "stop", _time.GetUtcNow());
        await cache.SetAsync("answer:abc", answer, CancellationToken.None);

        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldBe(answer);
        (await cache.GetAsync("answer:other", CancellationToken.None)).ShouldBeNull();

        var db = await _client!.Connection.GetDatabaseAsync(CancellationToken.None);
        var ttl = await db.KeyTimeToLiveAsync(_client.Prefix + "answer:abc");
        ttl.ShouldNotBeNull();
        ttl.Value.ShouldBeInRange(Ttl - TimeSpan.FromSeconds(30), Ttl);
        _client.Failures.Count.ShouldBe(0);
    }

    [Fact]
    public async Task Get_OlderThanTheTtlOnTheNodesClock_IsAMiss()
    {
        var cache = NewCache();
        await cache.SetAsync("answer:abc", new CachedAnswer("haiku", "Lisbon.", "stop", _time.GetUtcNow()), CancellationToken.None);
        _time.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldNotBeNull();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task CorruptEntry_IsAMissCounted()
    {
        var cache = NewCache();
        var db = await _client!.Connection.GetDatabaseAsync(CancellationToken.None);
        await db.StringSetAsync(_client.Prefix + "answer:bad", "not json");
        (await cache.GetAsync("answer:bad", CancellationToken.None)).ShouldBeNull();
        _client.Failures.Count.ShouldBe(1);
    }

    [Fact]
    public async Task NoRedisListening_MissesAndSkippedStoresWithinTheTimeout()
    {
        // A port nothing listens on: the multiplexer never connects.
        _client = new RedisClient($"127.0.0.1:{TestSupport.Servers.ServerProcess.FreePort()}", _time, TimeSpan.FromMilliseconds(250));
        var cache = new RedisResponseCache(_client.Connection, Ttl, _time, _client.Failures);
        var started = System.Diagnostics.Stopwatch.StartNew();

        await cache.SetAsync("answer:abc", new CachedAnswer("haiku", "Lisbon.", "stop", _time.GetUtcNow()), CancellationToken.None);
        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldBeNull();

        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        _client.Failures.Count.ShouldBe(2);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }
}

/// <summary>Redis killed or hung under a connected client: the cache misses and the limits fail open, quickly.</summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private TestSupport.Servers.RedisServer? _server;
    private RedisClient? _client;

    [Fact]
    public async Task RedisKilled_CacheMissesAndLimitsFailOpen()
    {
        _server = await TestSupport.Servers.RedisServer.StartAsync();
        _client = new RedisClient(_server.Configuration, _time, TimeSpan.FromMilliseconds(500));
        var cache = new RedisResponseCache(_client.Connection, TimeSpan.FromMinutes(5), _time, _client.Failures);
        var limiter = new RedisTenantRateLimiter(_client.Connection, _client.Failures);
        var limits = new Contracts.Limits.TenantLimits(1, 0);
        (await _client.Connection.WhenConnectedAsync(CancellationToken.None)).ShouldBeTrue();
        await cache.SetAsync("answer:abc", new CachedAnswer("haiku", "Lisbon.", "stop", _time.GetUtcNow()), CancellationToken.None);
        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldNotBeNull();
        (await limiter.TryAcquireAsync("acme", limits, 0, _time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();
        (await limiter.TryAcquireAsync("acme", limits, 0, _time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeFalse();
        _client.Failures.Count.ShouldBe(0, _client.Failures.LastError?.ToString());

        await _server.KillAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldBeNull();
            (await limiter.TryAcquireAsync("acme", limits, 0, _time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();
        }

        // Each operation is bounded by the 500 ms operation timeout (most fail at once: the connection is gone).
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        _client.Failures.Count.ShouldBe(10);
    }

    [Fact]
    public async Task RedisHung_CacheMissesAndLimitsFailOpenOnTheClientsTimeoutThenRecover()
    {
        _server = await TestSupport.Servers.RedisServer.StartAsync();
        _client = new RedisClient(_server.Configuration, _time, TimeSpan.FromMilliseconds(500));
        var cache = new RedisResponseCache(_client.Connection, TimeSpan.FromMinutes(5), _time, _client.Failures);
        var limiter = new RedisTenantRateLimiter(_client.Connection, _client.Failures);
        var limits = new Contracts.Limits.TenantLimits(1, 0);
        (await _client.Connection.WhenConnectedAsync(CancellationToken.None)).ShouldBeTrue();
        await cache.SetAsync("answer:abc", new CachedAnswer("haiku", "Lisbon.", "stop", _time.GetUtcNow()), CancellationToken.None);
        (await limiter.TryAcquireAsync("acme", limits, 0, _time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();
        _client.Failures.Count.ShouldBe(0, _client.Failures.LastError?.ToString());

        // The connection stays up and nothing answers: only the client's own timeout ends each wait.
        await _server.PauseAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldBeNull();
        (await limiter.TryAcquireAsync("acme", limits, 0, _time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeTrue();
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        _client.Failures.Count.ShouldBe(2);
        _client.Failures.LastError.ShouldBeOfType<StackExchange.Redis.RedisTimeoutException>();

        // Redis back on the same connection: a hit again, and the bucket (empty since the first request) refuses.
        await _server.ResumeAsync();
        (await cache.GetAsync("answer:abc", CancellationToken.None)).ShouldNotBeNull();
        (await limiter.TryAcquireAsync("acme", limits, 0, _time.GetUtcNow(), CancellationToken.None)).Allowed.ShouldBeFalse();
        _client.Failures.Count.ShouldBe(2);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
