using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Hosting;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Orleans;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Storage.DynamoDb.Tests;

/// <summary>
/// Session grains whose state is in DynamoDB (dynalite): governance holds across the silos of a cluster (one
/// activation), across silos that share the tables without sharing a cluster (the conditional write), and over a
/// restart (everything comes back from the tables).
/// </summary>
[Collection(DynaliteCollection.Name)]
public sealed class SessionGrainsOnDynamoDbTests(DynaliteFixture dynalite) : IAsyncLifetime
{
    private const string Haiku = "haiku";
    private static readonly ulong Task1 = TaskFingerprint.Compute(1, "do it [[sim:loop]]");
    private readonly FakeTimeProvider _time = new();
    private readonly List<AmazonDynamoDBClient> _clients = [];
    private readonly List<IAsyncDisposable> _nodes = [];
    private DynamoDbOptions _options = null!;

    public async Task InitializeAsync()
    {
        AmazonDynamoDBClient client;
        (_options, client) = await dynalite.NewTablesAsync();
        _clients.Add(client);
    }

    public async Task DisposeAsync()
    {
        await StopNodesAsync();
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task AdmitAsync_RunawayTaskEnteringByEachSiloInTurn_ExactlyMaxLoopsThenLoopLimitTrip()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var entries = new[] { cluster.GrainsOf(0), cluster.GrainsOf(1) };

        var results = new List<Admission>();
        for (var i = 0; i < 8; i++)
        {
            results.Add(await entries[i % 2].GetGrain<ISessionGrain>("runaway").AdmitAsync(i == 0 ? User(Task1) : Continue(Task1)));
        }

        results.Select(r => r.Allowed).ShouldBe([true, true, true, true, true, false, false, false]);
        results.Take(5).Select(r => r.LoopCount).ShouldBe([1, 2, 3, 4, 5]);
        results.Count(r => r.NewlyTripped).ShouldBe(1);
        results[5].NewlyTripped.ShouldBeTrue();
        results.Skip(5).ShouldAllBe(r => r.TripReason == TripReason.LoopLimit);
        var stored = await Store().ReadAsync("runaway", CancellationToken.None);
        stored!.ModelCalls.ShouldBe(5);
        stored.Status.ShouldBe(SessionStatus.Tripped);
        stored.TripReason.ShouldBe(TripReason.LoopLimit);
    }

    [Fact]
    public async Task AdmitAsync_ManyConcurrentContinuationsOverBothSilos_ExactlyMaxLoops()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var entries = new[] { cluster.GrainsOf(0), cluster.GrainsOf(1) };
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await entries[i % 2].GetGrain<ISessionGrain>("s1").AdmitAsync(Continue(Task1));
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        results.Count(r => r.Allowed).ShouldBe(5);
        results.Where(r => r.Allowed).Select(r => r.LoopCount).Order().ShouldBe([1, 2, 3, 4, 5]);
        results.Count(r => r.NewlyTripped).ShouldBe(1);
        (await Store().ReadAsync("s1", CancellationToken.None))!.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public async Task AdmitAsync_TwoClustersShareTheTables_AStaleActivationAnswersBusy_RetriedTheCountStaysExact()
    {
        // Two nodes that share the tables but not a cluster (no membership between them): each has an activation of
        // the session; the conditional write keeps the count exact, and a stale activation answers Busy (nothing
        // counted) so the caller retries on a fresh one.
        var a = await StartClusterAsync(silos: 1);
        var b = await StartClusterAsync(silos: 1);

        var results = new List<Admission>();
        var busy = 0;
        for (var i = 0; results.Count < 8; i++)
        {
            var admission = await (i % 2 == 0 ? a : b).Grains.GetGrain<ISessionGrain>("shared").AdmitAsync(results.Count == 0 ? User(Task1) : Continue(Task1));
            if (admission.Busy)
            {
                busy++;
                admission = await (i % 2 == 0 ? a : b).Grains.GetGrain<ISessionGrain>("shared").AdmitAsync(Continue(Task1));
            }

            admission.Busy.ShouldBeFalse();
            results.Add(admission);
        }

        results.Select(r => r.Allowed).ShouldBe([true, true, true, true, true, false, false, false]);
        results.Take(5).Select(r => r.LoopCount).ShouldBe([1, 2, 3, 4, 5]);
        busy.ShouldBeGreaterThan(0);
        (await Store().ReadAsync("shared", CancellationToken.None))!.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public async Task Restart_ANewClusterOnTheSameTables_SessionCountersAndOpenBreakerComeBack()
    {
        var cluster = await StartClusterAsync(silos: 1);
        var breakers = BreakersOf(cluster);
        var session = cluster.Grains.GetGrain<ISessionGrain>("kept");
        await session.AdmitAsync(User(Task1));
        await session.AdmitAsync(Continue(Task1));
        await session.AdmitAsync(Continue(Task1));
        for (var i = 0; i < 12; i++)
        {
            var lease = await breakers.AcquireAsync(Haiku, CancellationToken.None);
            await breakers.ReportAsync(lease, 500, TimeSpan.FromMilliseconds(200));
        }

        var openBefore = await breakers.GetAsync(Haiku, CancellationToken.None);
        openBefore!.State.ShouldBe("open");
        await StopNodesAsync();

        var restarted = await StartClusterAsync(silos: 1);
        var restartedBreakers = BreakersOf(restarted);
        var kept = restarted.Grains.GetGrain<ISessionGrain>("kept");
        var view = await kept.GetAsync(withAudit: false);
        var fourth = await kept.AdmitAsync(Continue(Task1));
        var refused = restartedBreakers.AcquireAsync(Haiku, CancellationToken.None);
        var breaker = await restartedBreakers.GetAsync(Haiku, CancellationToken.None);

        view!.LoopCount.ShouldBe(3);
        view.ModelCalls.ShouldBe(3);
        fourth.LoopCount.ShouldBe(4);

        // The restarted silo subscribed as it started: the open breaker is refused from its view, without a grain call.
        refused.IsCompletedSuccessfully.ShouldBeTrue();
        var refusal = await refused;
        refusal.Allowed.ShouldBeFalse();
        refusal.RetryAt.ShouldBe(openBefore.NextHalfOpenAt);
        breaker!.State.ShouldBe("open");
        breaker.OpenCount.ShouldBe(openBefore.OpenCount);
        breaker.NextHalfOpenAt.ShouldBe(openBefore.NextHalfOpenAt);
        breaker.Version.ShouldBe(openBefore.Version);
    }

    private DynamoSessionStore Store() => new(_clients[0], _options, _time);

    private async Task<GrainTestCluster> StartClusterAsync(int silos)
    {
        var client = DynaliteFixture.CreateClient(_options);
        _clients.Add(client);
        var cluster = await GrainTestCluster.StartAsync(
            silos,
            services: s =>
            {
                s.AddSingleton<ISessionStore>(new DynamoSessionStore(client, _options, _time));
                s.AddSingleton<IBreakerStore>(new DynamoBreakerStore(client, _options, _time));
                s.AddModelBreakers(static _ => [Haiku, "sonnet"]);
            },
            time: _time);
        _nodes.Add(cluster);
        return cluster;
    }

    private static ModelBreakers BreakersOf(GrainTestCluster cluster) => cluster.FirstSilo.GetRequiredService<ModelBreakers>();

    private async Task StopNodesAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        _nodes.Clear();
    }

    private static TurnInfo User(ulong task, int inputTokens = 3) => new(TurnKind.UserMessage, task, inputTokens);

    private static TurnInfo Continue(ulong task, int inputTokens = 3) => new(TurnKind.Continuation, task, inputTokens);
}
