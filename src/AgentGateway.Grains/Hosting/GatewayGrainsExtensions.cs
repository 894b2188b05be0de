using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Storage;

namespace AgentGateway.Grains.Hosting;

/// <summary>What a silo needs to host the gateway's grains, for the host and for test clusters alike.</summary>
public static class GatewayGrainsExtensions
{
    /// <summary>
    /// The grain storage providers the grains name (<see cref="GrainStorageNames"/>) over the gateway's versioned stores
    /// (<see cref="ISessionStore"/>, <see cref="IBreakerStore"/>: registered by whoever picks them, resolved when a grain
    /// first needs them), the silo's activation counts and <see cref="GrainReferences{TGrain}"/>. The grains' other services (options, the alert outbox and
    /// sinks, time) come from the silo's services.
    /// </summary>
    public static ISiloBuilder AddGatewayGrains(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddSingleton<GrainActivations>();
        silo.Services.AddSingleton(typeof(GrainReferences<>));
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Sessions, static (sp, _) =>
            new VersionedGrainStorage<SessionState>(sp.GetRequiredService<ISessionStore>(), static s => s.Version, static (s, v) => s with { Version = v }));
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Breakers, static (sp, _) =>
            new VersionedGrainStorage<BreakerState>(sp.GetRequiredService<IBreakerStore>(), static s => s.Version, static (s, v) => s with { Version = v }));
        return silo;
    }

    /// <summary>
    /// The silo's <see cref="ModelBreakers"/> (also as <see cref="IModelBreakers"/>) over the breaker grains of
    /// <paramref name="models"/> (the served model entries' names, replicas included), and its subscription to them once
    /// the silo is active. Each silo of a process gets its own. Needs <see cref="IOptions{BreakerOptions}"/> and a
    /// <see cref="TimeProvider"/>; the grains' transition sinks are every <see cref="IBreakerTransitionSink"/> registered.
    /// </summary>
    public static IServiceCollection AddModelBreakers(this IServiceCollection services, Func<IServiceProvider, IEnumerable<string>> models)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(models);
        services.AddSingleton(sp => new ModelBreakers(
            models(sp),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<BreakerOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ModelBreakers>>()));
        services.AddSingleton<IModelBreakers>(static sp => sp.GetRequiredService<ModelBreakers>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, BreakerSubscriptions>();
        return services;
    }
}
