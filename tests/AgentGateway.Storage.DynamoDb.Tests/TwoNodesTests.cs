using AgentGateway.Actors.Breakers;
using AgentGateway.Actors.Sessions;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Governance.Breakers;
using AgentGateway.Runtime;
using AgentGateway.TestSupport;
using Amazon.DynamoDBv2;
using Xunit.Abstractions;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Storage.DynamoDb.Tests;

/// <summary>
/// Two gateway "nodes" (their own session services and breakers, their own clients) over the same DynamoDB tables:
/// governance holds across them, and a restart finds everything where it was.
/// </summary>
[Collection(DynaliteCollection.Name)]
public sealed class TwoNodesTests(DynaliteFixture dynalite, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Haiku = "haiku";
    private static readonly ulong Task1 = TaskFingerprint.Compute(1, "do it [[sim:loop]]");
    private readonly FakeTimeProvider _time = new();
    private readonly List<IAsyncDisposable> _services = [];
    private readonly List<AmazonDynamoDBClient> _clients = [];
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
    public async Task AdmitAsync_RunawayTaskAlternatingNodes_ExactlyMaxLoopsThenLoopLimitTrip()
    {
        var a = NewSessionNode();
        var b = NewSessionNode();

        var results = new List<Admission>();
        for (var i = 0; i < 8; i++)
        {
            var node = i % 2 == 0 ? a : b;
            results.Add(await node.AdmitAsync("runaway", i == 0 ? User(Task1) : Continue(Task1), CancellationToken.None));
        }

        results.Select(r => r.Allowed).ShouldBe([true, true, true, true, true, false, false, false]);
        results.Take(5).Select(r => r.LoopCount).ShouldBe([1, 2, 3, 4, 5]);
        results.Count(r => r.NewlyTripped).ShouldBe(1);
        results[5].NewlyTripped.ShouldBeTrue();
        results.Skip(5).ShouldAllBe(r => r.TripReason == TripReason.LoopLimit);
        var stored = await new DynamoSessionStore(_clients[0], _options, _time).ReadAsync("runaway", CancellationToken.None);
        stored!.ModelCalls.ShouldBe(5);
        stored.Status.ShouldBe(SessionStatus.Tripped);
        stored.TripReason.ShouldBe(TripReason.LoopLimit);
        (await b.GetAsync("runaway", CancellationToken.None))!.Status.ShouldBe("tripped");
    }

    [Fact]
    public async Task AdmitAsync_ManyConcurrentContinuationsOverBothNodes_ExactlyMaxLoopsAcrossBoth()
    {
        var a = NewSessionNode();
        var b = NewSessionNode();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await (i % 2 == 0 ? a : b).AdmitAsync("s1", Continue(Task1), CancellationToken.None);
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        results.Count(r => r.Allowed).ShouldBe(5);
        results.Where(r => r.Allowed).Select(r => r.LoopCount).Order().ShouldBe([1, 2, 3, 4, 5]);
        results.Count(r => r.NewlyTripped).ShouldBe(1);
        (await new DynamoSessionStore(_clients[0], _options, _time).ReadAsync("s1", CancellationToken.None))!.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public async Task AdmitAsync_ManyConcurrentAdmitsOverBothNodesUnderHighLimits_EveryAdmissionCountedOnce()
    {
        // Limits no test run reaches: every admission is allowed, so the stored counters must equal the admissions.
        var governance = new GovernanceOptions { MaxLoops = 100_000, TokenBudget = 100_000_000 };
        var a = NewSessionNode(governance);
        var b = NewSessionNode(governance);
        var sessions = new[] { "c1", "c2", "c3" };
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 90).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var session = sessions[i % sessions.Length];
            try
            {
                return (session, await (i % 2 == 0 ? a : b).AdmitAsync(session, Continue(Task1), CancellationToken.None));
            }
            catch (SessionConflictException)
            {
                // The actor gives up after SessionActor.MaxWriteAttempts lost races: refused, nothing counted.
                return (session, default(Admission?));
            }
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        var store = new DynamoSessionStore(_clients[0], _options, _time);
        foreach (var session in sessions)
        {
            var mine = results.Where(r => r.session == session).Select(r => r.Item2).ToList();
            var allowed = mine.Count(r => r is { Allowed: true });
            var stored = await store.ReadAsync(session, CancellationToken.None);
            output.WriteLine($"{session}: {allowed} of {mine.Count} admitted, {mine.Count(r => r is null)} gave up after {SessionActor.MaxWriteAttempts} lost races");
            stored!.ModelCalls.ShouldBe(allowed);
            stored.LoopCount.ShouldBe(allowed);
            mine.Where(r => r is { Allowed: true }).Select(r => r!.Value.LoopCount).Order().ShouldBe(Enumerable.Range(1, allowed));
            // Lost races are rare; most admissions must get through.
            allowed.ShouldBeGreaterThan(mine.Count / 2);
        }
    }

    [Fact]
    public async Task Restart_NewServicesOnTheSameTables_SessionCountersAndOpenBreakerComeBack()
    {
        var sessions = NewSessionNode();
        var breakers = NewBreakerNode();
        await sessions.AdmitAsync("kept", User(Task1), CancellationToken.None);
        await sessions.AdmitAsync("kept", Continue(Task1), CancellationToken.None);
        await sessions.AdmitAsync("kept", Continue(Task1), CancellationToken.None);
        for (var i = 0; i < 12; i++)
        {
            var lease = await breakers.AcquireAsync(Haiku, CancellationToken.None);
            breakers.Report(lease, 500, TimeSpan.FromMilliseconds(200));
        }

        var openBefore = await breakers.GetAsync(Haiku, CancellationToken.None);
        openBefore!.State.ShouldBe("open");
        await StopNodesAsync();

        var restartedSessions = NewSessionNode();
        var restartedBreakers = NewBreakerNode();
        var view = await restartedSessions.GetAsync("kept", CancellationToken.None);
        var fourth = await restartedSessions.AdmitAsync("kept", Continue(Task1), CancellationToken.None);
        var refused = await restartedBreakers.AcquireAsync(Haiku, CancellationToken.None);
        var breaker = await restartedBreakers.GetAsync(Haiku, CancellationToken.None);

        view!.LoopCount.ShouldBe(3);
        view.ModelCalls.ShouldBe(3);
        fourth.LoopCount.ShouldBe(4);
        refused.Allowed.ShouldBeFalse();
        breaker!.State.ShouldBe("open");
        breaker.OpenCount.ShouldBe(openBefore.OpenCount);
        breaker.NextHalfOpenAt.ShouldBe(openBefore.NextHalfOpenAt);
    }

    private SessionService NewSessionNode(GovernanceOptions? governance = null)
    {
        var client = DynaliteFixture.CreateClient(_options);
        _clients.Add(client);
        var node = new SessionService(
            new DynamoSessionStore(client, _options, _time), governance ?? new GovernanceOptions(), new ActorHostOptions(), _time, NullLoggerFactory.Instance);
        _services.Add(node);
        return node;
    }

    private ModelBreakers NewBreakerNode()
    {
        var client = DynaliteFixture.CreateClient(_options);
        _clients.Add(client);
        var node = new ModelBreakers(
            [Haiku, "sonnet"], new DynamoBreakerStore(client, _options, _time), new BreakerOptions(), new ActorHostOptions(), _time, NullLoggerFactory.Instance);
        _services.Add(node);
        return node;
    }

    private async Task StopNodesAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        _services.Clear();
    }

    private static TurnInfo User(ulong task, int inputTokens = 3) => new(TurnKind.UserMessage, task, inputTokens);

    private static TurnInfo Continue(ulong task, int inputTokens = 3) => new(TurnKind.Continuation, task, inputTokens);
}
