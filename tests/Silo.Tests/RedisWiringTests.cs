using AgentGateway.Contracts.Caching;
using AgentGateway.Contracts.Limits;
using AgentGateway.Providers.Caching;
using AgentGateway.Providers.Limits;
using AgentGateway.Redis;
using AgentGateway.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Silo.Tests;

/// <summary>Nothing configured: no Redis (the cache and the limits in process); <c>Redis:Configuration</c> set: both in Redis.</summary>
public sealed class RedisWiringTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task NothingConfigured_InProcessCacheAndLimits()
    {
        await using var node = new OwnNode(GatewayFixture.SharedSettings);
        node.Services.GetRequiredService<IResponseCache>().ShouldBeOfType<InMemoryResponseCache>();
        node.Services.GetRequiredService<ITenantRateLimiter>().ShouldBeOfType<InProcessTenantRateLimiter>();
        node.Services.GetService<RedisConnection>().ShouldBeNull();
    }

    [Fact]
    public async Task RedisConfigured_CacheAndLimitsInRedis()
    {
        await using var node = new OwnNode(redis.NodeSettings(RedisServerFixture.NewPrefix()));
        node.Services.GetRequiredService<IResponseCache>().ShouldBeOfType<RedisResponseCache>();
        node.Services.GetRequiredService<ITenantRateLimiter>().ShouldBeOfType<RedisTenantRateLimiter>();
    }
}
