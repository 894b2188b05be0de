using AgentGateway.Actors.Breakers;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Providers.Models;
using AgentGateway.Providers.Storage;
using AgentGateway.Runtime;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>How a node gets its per-model circuit breakers.</summary>
public static class BreakerHostingExtensions
{
    /// <summary>
    /// One breaker actor per served model on the in-process actor host, over the embedded in-memory store;
    /// <see cref="BreakerOptions"/> (section <c>Breakers</c>) validated at start with every error listed. No one
    /// listens to transitions but the metrics (<see cref="BreakerTransitionMetrics"/>) and every other
    /// <see cref="IBreakerTransitionSink"/> registered (the alerts): each hears every transition.
    /// </summary>
    public static WebApplicationBuilder AddModelBreakers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<BreakerOptions>(builder.Configuration, BreakerOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBreakerTransitionSink, BreakerTransitionMetrics>());
        services.AddSingleton(static sp => new ModelBreakers(
            sp.GetRequiredService<ModelCatalog>().AllEntries.Select(static m => m.Name),
            sp.GetRequiredService<IBreakerStore>(),
            sp.GetRequiredService<IOptions<BreakerOptions>>().Value,
            sp.GetRequiredService<IOptions<ActorHostOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            new CompositeBreakerTransitionSink(sp.GetServices<IBreakerTransitionSink>())));
        services.AddSingleton<IModelBreakers>(static sp => sp.GetRequiredService<ModelBreakers>());
        return builder;
    }
}
