using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;

namespace AgentGateway.Grains.Hosting;

/// <summary>What a silo needs to host the gateway's grains, for the host and for test clusters alike.</summary>
public static class GatewayGrainsExtensions
{
    /// <summary>
    /// The grain storage providers the grains name (<see cref="GrainStorageNames"/>) over the gateway's versioned stores
    /// (<see cref="ISessionStore"/>, <see cref="IBreakerStore"/>: registered by whoever picks them, resolved when a grain
    /// first needs them) and the silo's activation counts. The grains' other services (options, the alert outbox and
    /// sinks, time) come from the silo's services.
    /// </summary>
    public static ISiloBuilder AddGatewayGrains(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddSingleton<GrainActivations>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Sessions, static (sp, _) =>
            new VersionedGrainStorage<SessionState>(sp.GetRequiredService<ISessionStore>(), static s => s.Version, static (s, v) => s with { Version = v }));
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Breakers, static (sp, _) =>
            new VersionedGrainStorage<BreakerState>(sp.GetRequiredService<IBreakerStore>(), static s => s.Version, static (s, v) => s with { Version = v }));
        return silo;
    }
}
