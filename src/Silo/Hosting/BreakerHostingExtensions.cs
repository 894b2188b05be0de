using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Hosting;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentGateway.Silo.Hosting;

/// <summary>How a node gets its per-model circuit breakers.</summary>
public static class BreakerHostingExtensions
{
    /// <summary>
    /// One breaker grain per served model entry (replicas included), read on the hot path through this silo's
    /// <see cref="ModelBreakers"/>, which subscribes to them once the silo is active; <see cref="BreakerOptions"/>
    /// (section <c>Breakers</c>) validated at start with every error listed. The grains announce each transition to the
    /// metrics (<see cref="BreakerTransitionMetrics"/>) and every other <see cref="IBreakerTransitionSink"/> registered
    /// (the alerts). The breakers' state is the state provider's (<see cref="StorageHostingExtensions.AddStateStores"/>).
    /// </summary>
    public static WebApplicationBuilder AddModelBreakers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<BreakerOptions>(builder.Configuration, BreakerOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBreakerTransitionSink, BreakerTransitionMetrics>());
        services.AddModelBreakers(static sp => sp.GetRequiredService<ModelCatalog>().AllEntries.Select(static m => m.Name));
        return builder;
    }
}
