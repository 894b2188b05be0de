using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Hosting;
using AgentGateway.Providers.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace AgentGateway.TestSupport.Orleans;

/// <summary>
/// The gateway's grains on Orleans' in-process test cluster: one or more silos in this process, grains driven by a
/// <see cref="FakeTimeProvider"/> (Orleans' own maintenance stays on real time), and the stores, options and sinks a
/// test gives (the silos share the same instances, as nodes share a store). What a test does not give gets the
/// embedded default: in-memory stores, default options, an in-memory alert outbox with no sink.
/// </summary>
public sealed class GrainTestCluster : IAsyncDisposable
{
    private GrainTestCluster(InProcessTestCluster cluster, FakeTimeProvider time)
    {
        Cluster = cluster;
        Time = time;
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The grains' clock: tests advance it.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>
    /// Grains as the first silo calls them: the gateway's web front end runs in its silo and calls grains in process, so
    /// tests do too (an outside client's calls travel over several connections and may overtake each other).
    /// </summary>
    public IGrainFactory Grains => FirstSilo.GetRequiredService<IGrainFactory>();

    /// <summary>Grains as silo <paramref name="index"/> calls them.</summary>
    public IGrainFactory GrainsOf(int index) => Cluster.GetSiloServiceProvider(Cluster.Silos[index].SiloAddress).GetRequiredService<IGrainFactory>();

    /// <summary>The services of the first silo (its stores, its activation counts).</summary>
    public IServiceProvider FirstSilo => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);

    /// <summary>
    /// The reminders the cluster holds for <paramref name="grain"/>, read from the reminder table (so they are there
    /// whether or not the grain is active: a reminder is what brings a deactivated grain back). The table, not the
    /// grain's reminder registry, which answers only calls made from inside the grain.
    /// </summary>
    public async Task<IReadOnlyList<ReminderEntry>> RemindersOf(IAddressable grain)
    {
        ArgumentNullException.ThrowIfNull(grain);
        var table = await FirstSilo.GetRequiredService<IReminderTable>().ReadRows(grain.GetGrainId());
        return [.. table.Reminders];
    }

    /// <summary>The services of silo <paramref name="index"/> (what it registered for itself, e.g. its model breakers).</summary>
    public IServiceProvider ServicesOf(int index) => Cluster.GetSiloServiceProvider(Cluster.Silos[index].SiloAddress);

    /// <summary>Starts <paramref name="silos"/> silos; <paramref name="services"/> adds the test's own services to each.</summary>
    public static async Task<GrainTestCluster> StartAsync(int silos = 1, Action<IServiceCollection>? services = null, FakeTimeProvider? time = null)
    {
        var clock = time ?? new FakeTimeProvider();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(clock);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            silo.UseInMemoryReminderService();
            silo.AddGatewayGrains();
            services?.Invoke(silo.Services);
            AddDefaults(silo.Services);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new GrainTestCluster(cluster, clock);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>What a test did not register: the embedded default's stores and the options' defaults.</summary>
    private static void AddDefaults(IServiceCollection services)
    {
        services.TryAddSingleton<InMemorySessionStore>();
        services.TryAddSingleton<ISessionStore>(static sp => sp.GetRequiredService<InMemorySessionStore>());
        services.TryAddSingleton<IBreakerStore>(static _ => new InMemoryBreakerStore());
        services.TryAddSingleton<IAlertOutboxStore>(static _ => new InMemoryAlertOutboxStore());
        services.TryAddSingleton<IEnumerable<IAlertSink>>(static _ => []);
        services.TryAddSingleton(static _ => new AlertComposer("test"));
        services.TryAddSingleton(Options.Create(new GovernanceOptions()));
        services.TryAddSingleton(Options.Create(new BreakerOptions()));
        services.TryAddSingleton(Options.Create(new AlertOptions()));
        services.AddLogging(static logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}
