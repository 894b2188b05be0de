using AgentGateway.Actors.Sessions;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Storage;
using AgentGateway.Runtime;
using AgentGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Actors.Tests.Sessions;

public sealed class SessionServiceTests : IAsyncLifetime
{
    private static readonly ulong Task1 = TaskFingerprint.Compute(1, "do it [[sim:loop]]");
    private readonly FakeTimeProvider _time = new();
    private readonly InMemorySessionStore _store = new();
    private readonly List<SessionService> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task AdmitAsync_500ConcurrentContinuations_ExactlyMaxLoopsAllowed()
    {
        var node = NewNode();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 500).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await node.AdmitAsync("s1", Continue(Task1), CancellationToken.None);
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        results.Count(a => a.Allowed).ShouldBe(5);
        results.Where(a => a.Allowed).Select(a => a.LoopCount).Order().ShouldBe([1, 2, 3, 4, 5]);
        results.Count(a => a.NewlyTripped).ShouldBe(1);
        results.Where(a => !a.Allowed).ShouldAllBe(a => a.TripReason == TripReason.LoopLimit);
        var view = await node.GetAsync("s1", CancellationToken.None);
        view!.Status.ShouldBe("tripped");
        view.ModelCalls.ShouldBe(5);
        (await _store.ReadAsync("s1", CancellationToken.None))!.LoopCount.ShouldBe(5);
    }

    [Fact]
    public async Task EventSink_TwoNodesRaceOneSession_OneTripReportedOnceThenOneResume()
    {
        var events = new RecordingSink();
        var a = NewNode(events: events);
        var b = NewNode(events: events);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await (i % 2 == 0 ? a : b).AdmitAsync("s1", Continue(Task1), CancellationToken.None);
        })).ToArray();

        start.SetResult();
        await Task.WhenAll(admits);
        await a.ResumeAsync("s1", null, CancellationToken.None);

        events.Trips.ShouldBe([new SessionTripped("s1", TripReason.LoopLimit, 5, 15, _time.GetUtcNow())]);
        events.Resumes.ShouldBe(["s1"]);
    }

    private sealed class RecordingSink : ISessionEventSink
    {
        private readonly List<SessionTripped> _trips = [];
        private readonly List<string> _resumes = [];

        public SessionTripped[] Trips
        {
            get
            {
                lock (_trips)
                {
                    return [.. _trips];
                }
            }
        }

        public string[] Resumes
        {
            get
            {
                lock (_trips)
                {
                    return [.. _resumes];
                }
            }
        }

        public void Tripped(SessionTripped tripped)
        {
            lock (_trips)
            {
                _trips.Add(tripped);
            }
        }

        public void Resumed(string sessionId, DateTimeOffset at)
        {
            lock (_trips)
            {
                _resumes.Add(sessionId);
            }
        }
    }

    [Fact]
    public async Task AdmitAsync_TwoNodesOneStoreAlternating_ExactlyMaxLoopsPerTask()
    {
        var a = NewNode();
        var b = NewNode();

        var results = new List<Admission>();
        for (var i = 0; i < 8; i++)
        {
            var node = i % 2 == 0 ? a : b;
            results.Add(await node.AdmitAsync("s1", i == 0 ? User(Task1) : Continue(Task1), CancellationToken.None));
        }

        results.Select(r => r.Allowed).ShouldBe([true, true, true, true, true, false, false, false]);
        results.Take(5).Select(r => r.LoopCount).ShouldBe([1, 2, 3, 4, 5]);
        (await _store.ReadAsync("s1", CancellationToken.None))!.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public async Task AdmitAsync_TwoNodesConcurrently_ExactlyMaxLoopsAcrossBoth()
    {
        var a = NewNode();
        var b = NewNode();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await (i % 2 == 0 ? a : b).AdmitAsync("s1", Continue(Task1), CancellationToken.None);
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        results.Count(r => r.Allowed).ShouldBe(5);
        (await _store.ReadAsync("s1", CancellationToken.None))!.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public async Task ResumeAsync_OnOtherNode_TrippedNodeSeesItAndAdmitsAgain()
    {
        var a = NewNode();
        var b = NewNode();
        for (var i = 0; i < 6; i++)
        {
            await a.AdmitAsync("s1", Continue(Task1), CancellationToken.None);
        }

        var resumed = (await b.ResumeAsync("s1", null, CancellationToken.None)).View;
        var again = await a.AdmitAsync("s1", Continue(Task1), CancellationToken.None);

        resumed!.Status.ShouldBe("active");
        resumed.LoopCount.ShouldBe(0);
        again.Allowed.ShouldBeTrue();
        again.LoopCount.ShouldBe(1);
    }

    [Fact]
    public async Task Settle_AfterAdmit_CorrectsTokensInWindowBeforeNextTurn()
    {
        var node = NewNode();
        var admission = await node.AdmitAsync("s1", User(Task1, inputTokens: 40), CancellationToken.None);

        node.Settle("s1", new CallSettlement(admission.ReservedInputTokens, 35, 4_000));
        var view = await node.GetAsync("s1", CancellationToken.None);

        view!.TokensInWindow.ShouldBe(4_035);
        view.Version.ShouldBe(2);
    }

    [Fact]
    public async Task GetAsync_UnknownSession_NullAndNothingStored()
    {
        var node = NewNode();

        (await node.GetAsync("nobody", CancellationToken.None)).ShouldBeNull();
        (await node.ResumeAsync("nobody", null, CancellationToken.None)).Outcome.ShouldBe(SessionActionOutcome.NotFound);
        _store.Count.ShouldBe(0);
    }

    [Fact]
    public async Task AdmitAsync_AfterIdleDeactivation_StateReloadedFromStore()
    {
        var node = NewNode();
        for (var i = 0; i < 3; i++)
        {
            await node.AdmitAsync("s1", Continue(Task1), CancellationToken.None);
        }

        _time.Advance(TimeSpan.FromMinutes(10));
        (await node.Host.LastCollection).ShouldBe(1);
        node.Host.IsActive("s1").ShouldBeFalse();

        var fourth = await node.AdmitAsync("s1", Continue(Task1), CancellationToken.None);

        fourth.LoopCount.ShouldBe(4);
    }

    [Fact]
    public async Task AdmitAsync_StoreFailsOnce_CallerGetsErrorAndNextTurnRereadsStore()
    {
        var flaky = new FlakyStore(_store);
        var node = NewNode(flaky);
        await node.AdmitAsync("s1", Continue(Task1), CancellationToken.None);

        flaky.FailNextWrite = true;
        await Should.ThrowAsync<IOException>(() => node.AdmitAsync("s1", Continue(Task1), CancellationToken.None));
        var next = await node.AdmitAsync("s1", Continue(Task1), CancellationToken.None);

        next.LoopCount.ShouldBe(2);
        (await _store.ReadAsync("s1", CancellationToken.None))!.LoopCount.ShouldBe(2);
    }

    private SessionService NewNode(ISessionStore? store = null, ISessionEventSink? events = null)
    {
        var node = new SessionService(store ?? _store, new GovernanceOptions(), new ActorHostOptions(), _time, NullLoggerFactory.Instance, events);
        _nodes.Add(node);
        return node;
    }

    private static TurnInfo User(ulong task, int inputTokens = 3) => new(TurnKind.UserMessage, task, inputTokens);

    private static TurnInfo Continue(ulong task, int inputTokens = 3) => new(TurnKind.Continuation, task, inputTokens);

    /// <summary>A store whose next write fails the way a network store can (the write's outcome is lost).</summary>
    private sealed class FlakyStore(ISessionStore inner) : ISessionStore
    {
        public bool FailNextWrite { get; set; }

        public ValueTask<SessionState?> ReadAsync(string sessionId, CancellationToken cancellationToken) => inner.ReadAsync(sessionId, cancellationToken);

        public ValueTask<bool> TryWriteAsync(SessionState state, long expectedVersion, CancellationToken cancellationToken)
        {
            if (FailNextWrite)
            {
                FailNextWrite = false;
                throw new IOException("store unreachable");
            }

            return inner.TryWriteAsync(state, expectedVersion, cancellationToken);
        }
    }
}
