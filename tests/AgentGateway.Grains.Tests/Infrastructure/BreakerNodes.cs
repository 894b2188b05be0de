using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Hosting;
using AgentGateway.Providers.Storage;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Orleans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentGateway.Grains.Tests.Infrastructure;

/// <summary>
/// A test cluster of one or more silos serving <c>haiku</c> and <c>sonnet</c>, each silo with its own
/// <see cref="ModelBreakers"/> (subscribed to the breaker grains as the silo became active), over one breaker store, with
/// every call into a breaker grain counted (<see cref="Calls"/>). Each test starts its own: breakers are shared state.
/// </summary>
public sealed class BreakerNodes : IAsyncDisposable
{
    public const string Haiku = "haiku";
    public const string Sonnet = "sonnet";

    private BreakerNodes(GrainTestCluster cluster, InMemoryBreakerStore store, BreakerCalls calls)
    {
        Cluster = cluster;
        Store = store;
        Calls = calls;
    }

    public GrainTestCluster Cluster { get; }

    public InMemoryBreakerStore Store { get; }

    public BreakerCalls Calls { get; }

    public FakeTimeProvider Time => Cluster.Time;

    public int Count => Cluster.Cluster.Silos.Count;

    /// <summary>Silo <paramref name="index"/>'s breakers, as its web front end calls them.</summary>
    public ModelBreakers Silo(int index) => Cluster.ServicesOf(index).GetRequiredService<ModelBreakers>();

    public GrainActivations ActivationsOf(int index) => Cluster.ServicesOf(index).GetRequiredService<GrainActivations>();

    public IBreakerGrain Grain(string model) => Cluster.Grains.GetGrain<IBreakerGrain>(model);

    public static async Task<BreakerNodes> StartAsync(
        int silos = 1,
        BreakerOptions? options = null,
        InMemoryBreakerStore? store = null,
        IReadOnlyList<IBreakerTransitionSink>? sinks = null,
        FakeTimeProvider? time = null)
    {
        var shared = store ?? new InMemoryBreakerStore();
        var calls = new BreakerCalls();
        var cluster = await GrainTestCluster.StartAsync(
            silos,
            services =>
            {
                services.AddSingleton<IBreakerStore>(shared);
                services.AddSingleton(Options.Create(options ?? new BreakerOptions()));
                foreach (var sink in sinks ?? [])
                {
                    services.AddSingleton(sink);
                }

                services.AddSingleton<IIncomingGrainCallFilter>(calls);
                services.AddModelBreakers(static _ => [Haiku, Sonnet]);
            },
            time);
        return new BreakerNodes(cluster, shared, calls);
    }

    /// <summary>The stored breaker, read synchronously (the in-memory store answers at once).</summary>
    public BreakerState? StoredNow(string model)
    {
        var read = Store.ReadAsync(model, CancellationToken.None);
        read.IsCompletedSuccessfully.ShouldBeTrue();
        return read.Result;
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}

/// <summary>
/// The breaker tests start test clusters of their own (up to three silos each): run one at a time and not beside the
/// session tests' shared cluster, so neither starves the other of the machine's cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BreakerCollection
{
    public const string Name = "Breakers";
}
