using AgentGateway.Contracts.Caching;
using AgentGateway.Contracts.Limits;
using AgentGateway.Providers.Caching;
using AgentGateway.Providers.Limits;
using AgentGateway.Redis;
using AgentGateway.Silo.Limits;
using AgentGateway.Silo.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>Registration of the answer cache and the tenants' limits: in Redis when it is configured, else in process.</summary>
public static class RedisHostingExtensions
{
    /// <summary>
    /// The answer cache (<see cref="CacheOptions"/>, section <c>Cache</c>) and the tenants' RPM/TPM limits. With
    /// <c>Redis:Configuration</c> set both are in Redis, shared by every node; without it (the embedded default) both are
    /// in process.
    /// </summary>
    public static WebApplicationBuilder AddCacheAndLimits(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<CacheOptions>(builder.Configuration, CacheOptions.SectionName);
        services.AddSingleton<AnswerCache>();
        services.AddValidatedOptions<RedisOptions>(builder.Configuration, RedisOptions.SectionName);
        var configured = builder.Configuration.GetSection(RedisOptions.SectionName).Get<RedisOptions>() ?? new RedisOptions();
        if (configured.Enabled)
        {
            services.AddSingleton<RedisConnection>();
            services.AddSingleton<RedisFailures>();
            services.AddSingleton<IResponseCache>(static sp => new RedisResponseCache(
                sp.GetRequiredService<RedisConnection>(),
                sp.GetRequiredService<IOptions<CacheOptions>>().Value.TimeToLive,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<RedisFailures>()));
            services.AddSingleton<ITenantRateLimiter, RedisTenantRateLimiter>();
            services.AddHostedService<RedisWarmStart>();
        }
        else
        {
            services.AddSingleton<IResponseCache>(static sp =>
            {
                var cache = sp.GetRequiredService<IOptions<CacheOptions>>().Value;
                return new InMemoryResponseCache(cache.MaxEntries, cache.TimeToLive, sp.GetRequiredService<TimeProvider>());
            });
            services.AddSingleton<ITenantRateLimiter, InProcessTenantRateLimiter>();
        }

        services.AddSingleton<TenantRateLimits>();
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
