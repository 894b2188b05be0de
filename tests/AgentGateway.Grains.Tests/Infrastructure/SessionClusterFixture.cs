using AgentGateway.Providers.Storage;
using AgentGateway.TestSupport.Orleans;
using Orleans;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Grains.Tests.Infrastructure;

/// <summary>
/// Two silos sharing one in-memory session store, for the session tests: each test uses session ids of its own, so
/// they share the cluster (started once) without seeing each other.
/// </summary>
public sealed class SessionClusterFixture : IAsyncLifetime
{
    public InMemorySessionStore Store { get; } = new();

    /// <summary>When a session grain has run a call (one-way settlements have no answer to wait on).</summary>
    public GrainCallSignals Calls { get; } = new();

    public GrainTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await GrainTestCluster.StartAsync(silos: 2, services: s =>
        {
            s.AddSingleton(Store);
            s.AddSingleton<IIncomingGrainCallFilter>(Calls);
        });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    public static string NewId() => "s-" + Guid.NewGuid().ToString("N");
}

[CollectionDefinition(Name)]
public sealed class SessionClusterCollection : ICollectionFixture<SessionClusterFixture>
{
    public const string Name = "Session cluster";
}
