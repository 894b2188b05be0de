using AgentGateway.Contracts.Caching;
using AgentGateway.Providers.Caching;
using AgentGateway.TestSupport;

namespace AgentGateway.Providers.Tests.Caching;

public sealed class InMemoryResponseCacheTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task GetAsync_WithinTimeToLive_TheStoredAnswerThenGone()
    {
        var cache = new InMemoryResponseCache(10, TimeSpan.FromMinutes(10), _time);
        await cache.SetAsync("k", Answer("a"), default);

        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        (await cache.GetAsync("k", default))!.Text.ShouldBe("a");
        _time.Advance(TimeSpan.FromTicks(1));
        (await cache.GetAsync("k", default)).ShouldBeNull();
        cache.Count.ShouldBe(0);
    }

    [Fact]
    public async Task SetAsync_OverMaxEntries_OldestLeaveFirst()
    {
        var cache = new InMemoryResponseCache(3, TimeSpan.FromMinutes(10), _time);
        foreach (var key in new[] { "a", "b", "c", "d", "e" })
        {
            await cache.SetAsync(key, Answer(key), default);
        }

        cache.Count.ShouldBe(3);
        (await cache.GetAsync("a", default)).ShouldBeNull();
        (await cache.GetAsync("b", default)).ShouldBeNull();
        (await cache.GetAsync("e", default))!.Text.ShouldBe("e");
    }

    [Fact]
    public async Task SetAsync_SameKey_Replaced()
    {
        var cache = new InMemoryResponseCache(3, TimeSpan.FromMinutes(10), _time);
        await cache.SetAsync("k", Answer("old"), default);

        await cache.SetAsync("k", Answer("new"), default);

        (await cache.GetAsync("k", default))!.Text.ShouldBe("new");
        cache.Count.ShouldBe(1);
    }

    private CachedAnswer Answer(string text) => new("haiku", text, "stop", _time.GetUtcNow());
}
