using AgentGateway.Contracts.Caching;
using AgentGateway.Contracts.Limits;
using AgentGateway.Providers.Limits;
using AgentGateway.Redis;
using AgentGateway.Silo.Limits;
using AgentGateway.Silo.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>Registration of the shared Redis (response cache, tenant limits) and of the tenants' limits.</summary>
public static class RedisHostingExtensions
{
    /// <summary>
    /// With <c>Redis:Configuration</c> set: the answer cache and the tenants' RPM/TPM limits in Redis, shared by every
    /// node (registered before <see cref="GatewayHostingExtensions.AddModelProviders"/>, whose in-process cache then
    /// stays out). Without it (the embedded default): limits in process; the cache stays the node's own.
    /// </summary>
    public static WebApplicationBuilder AddRedis(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<RedisOptions>(builder.Configuration, RedisOptions.SectionName);
        var configured = builder.Configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>() ?? new RedisOptions();
        if (configured.Enabled)
        {
            services.TryAddSingleton<RedisConnection>();
            services.TryAddSingleton<RedisFailures>();
            services.TryAddSingleton<IResponseCache>(static sp => new RedisResponseCache(
                sp.GetRequiredService<RedisConnection>(),
                sp.GetRequiredService<IOptions<CacheOptions>>().Value.TimeToLive,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<RedisFailures>()));
            services.TryAddSingleton<ITenantRateLimiter, RedisTenantRateLimiter>();
            services.AddHostedService<RedisWarmStart>();
        }
        else
        {
            services.TryAddSingleton<ITenantRateLimiter, InProcessTenantRateLimiter>();
        }

        services.TryAddSingleton<TenantRateLimits>();
        return builder;
    }
}

/// <summary>
/// Starts the Redis connection in the background as the node starts (never holding the start up, never failing it),
/// so the first requests find it made instead of each waiting up to the operation timeout and missing.
/// </summary>
internal sealed class RedisWarmStart(RedisConnection redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = redis.WhenConnectedAsync(CancellationToken.None).ContinueWith(
            static t => _ = t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
