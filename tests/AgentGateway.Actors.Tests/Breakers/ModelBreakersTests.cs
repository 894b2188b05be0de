using AgentGateway.Actors.Breakers;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Providers.Storage;
using AgentGateway.Runtime;
using AgentGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Actors.Tests.Breakers;

public sealed class ModelBreakersTests : IAsyncLifetime
{
    private const string Haiku = "haiku";
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(200);
    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryBreakerStore _store = new();
    private readonly List<ModelBreakers> _nodes = [];

    private DateTimeOffset Now => _time.GetUtcNow();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task AcquireAsync_Closed_CompletesSynchronouslyFromTheView()
    {
        var node = NewNode();
        (await node.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeTrue(); // loads the view

        var lease = Synchronously(node.AcquireAsync(Haiku, CancellationToken.None));

        lease.ShouldBe(new BreakerLease(Haiku, true, false, node.ViewOf(Haiku)!.Epoch, 0, null));
    }

    [Fact]
    public async Task AcquireAsync_Closed_AllocatesNothing()
    {
        var node = NewNode();
        await node.AcquireAsync(Haiku, CancellationToken.None);
        for (var i = 0; i < 100; i++)
        {
            _ = Synchronously(node.AcquireAsync(Haiku, CancellationToken.None));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _ = Synchronously(node.AcquireAsync(Haiku, CancellationToken.None));
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    [Fact]
    public async Task Flow_Closed_Open_HalfOpen_Closed()
    {
        var node = NewNode();
        for (var i = 0; i < 12; i++)
        {
            var lease = await node.AcquireAsync(Haiku, CancellationToken.None);
            node.Report(lease, 500, Fast);
        }

        var open = await node.GetAsync(Haiku, CancellationToken.None);
        open!.State.ShouldBe("open");
        open.OpenCount.ShouldBe(1);
        open.ConsecutiveFailures.ShouldBe(5);
        open.NextHalfOpenAt.ShouldBe(Now.AddSeconds(30));
        node.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);

        _time.Advance(TimeSpan.FromSeconds(29.999));
        var refused = Synchronously(node.AcquireAsync(Haiku, CancellationToken.None));
        refused.Allowed.ShouldBeFalse();
        refused.RetryAt.ShouldBe(open.NextHalfOpenAt);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var probe = await node.AcquireAsync(Haiku, CancellationToken.None);
        probe.Allowed.ShouldBeTrue();
        probe.IsProbe.ShouldBeTrue();
        (await node.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeFalse();
        (await node.GetAsync(Haiku, CancellationToken.None))!.State.ShouldBe("half-open");

        node.Report(probe, 200, Fast);

        var closed = await node.GetAsync(Haiku, CancellationToken.None);
        closed!.State.ShouldBe("closed");
        closed.OpenCount.ShouldBe(1);
        closed.CallsInWindow.ShouldBe(0);
        node.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Closed);
        Synchronously(node.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeTrue();
    }

    [Fact]
    public async Task AcquireAsync_HalfOpen500Concurrent_ExactlyMaxProbesAllowed()
    {
        var node = NewNode(new BreakerOptions { HalfOpenMaxProbes = 3 });
        await OpenAsync(node);
        _time.Advance(TimeSpan.FromSeconds(30));

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acquires = Enumerable.Range(0, 500).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await node.AcquireAsync(Haiku, CancellationToken.None);
        })).ToArray();
        start.SetResult();
        var leases = await Task.WhenAll(acquires);

        var allowed = leases.Where(l => l.Allowed).ToArray();
        allowed.Length.ShouldBe(3);
        allowed.ShouldAllBe(l => l.IsProbe);
        allowed.Select(l => l.Ticket).Distinct().Count().ShouldBe(3);
        (await node.GetAsync(Haiku, CancellationToken.None))!.ProbesInFlight.ShouldBe(3);
    }

    [Fact]
    public async Task AcquireAsync_HalfOpen_ThreeNodesSharingTheStore_600Concurrent_ExactlyMaxProbesAcrossTheCluster()
    {
        var options = new BreakerOptions { HalfOpenMaxProbes = 2 };
        ModelBreakers[] nodes = [NewNode(options), NewNode(options), NewNode(options), NewNode(options)];
        await OpenAsync(nodes[0]);
        _time.Advance(TimeSpan.FromSeconds(30));
        nodes[0].ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acquires = Enumerable.Range(0, 600).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await nodes[1 + (i % 3)].AcquireAsync(Haiku, CancellationToken.None);
        })).ToArray();
        start.SetResult();
        var leases = await Task.WhenAll(acquires);

        var probes = leases.Where(l => l.Allowed).ToArray();
        probes.Length.ShouldBe(2);
        probes.ShouldAllBe(l => l.IsProbe);
        probes.Select(l => l.Ticket).Distinct().Count().ShouldBe(2);
        StoredNow(Haiku)!.ProbeTickets!.Order().ShouldBe(probes.Select(l => l.Ticket).Order());

        // A probe is known by its stored ticket, so its success counts whichever node took it (the third one here
        // reports it), and closes the breaker for every node that rereads the store.
        // The first node opened the breaker and has not read it since: it still holds it open, without the slot.
        var reporter = nodes[0];
        reporter.Report(probes[0], 200, Fast);
        (await reporter.GetAsync(Haiku, CancellationToken.None))!.State.ShouldBe("closed");
        foreach (var node in nodes)
        {
            await node.RefreshAsync(CancellationToken.None);
            node.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Closed);
        }
    }

    [Fact]
    public async Task Restart_OpenBreaker_ComesBackOpenWithSameBreak()
    {
        var first = NewNode();
        await OpenAsync(first);
        var before = await first.GetAsync(Haiku, CancellationToken.None);
        _nodes.Remove(first);
        await first.DisposeAsync();
        _time.Advance(TimeSpan.FromSeconds(10));

        var second = NewNode();
        var after = await second.GetAsync(Haiku, CancellationToken.None);

        after!.State.ShouldBe("open");
        after.NextHalfOpenAt.ShouldBe(before!.NextHalfOpenAt);
        after.OpenCount.ShouldBe(1);
        after.Version.ShouldBe(before.Version);
        var refused = Synchronously(second.AcquireAsync(Haiku, CancellationToken.None));
        refused.ShouldBe(new BreakerLease(Haiku, false, false, second.ViewOf(Haiku)!.Epoch, 0, before.NextHalfOpenAt));
    }

    [Fact]
    public async Task AcquireAsync_NewNodeOverOpenStoredState_RefusedBeforeAnyRead()
    {
        await OpenAsync(NewNode());

        var lease = await NewNode().AcquireAsync(Haiku, CancellationToken.None);

        lease.Allowed.ShouldBeFalse();
        lease.RetryAt.ShouldBe(Now.AddSeconds(30));
    }

    [Fact]
    public async Task Isolate_Close_Reset_OperatorActions()
    {
        var node = NewNode();
        await OpenAsync(node);

        var isolated = await node.IsolateAsync(Haiku, CancellationToken.None);
        isolated!.State.ShouldBe("isolated");
        isolated.NextHalfOpenAt.ShouldBeNull();
        _time.Advance(TimeSpan.FromHours(1));
        var refused = Synchronously(node.AcquireAsync(Haiku, CancellationToken.None));
        refused.Allowed.ShouldBeFalse();
        refused.RetryAt.ShouldBeNull();

        var closed = await node.CloseAsync(Haiku, CancellationToken.None);
        closed!.State.ShouldBe("closed");
        closed.OpenCount.ShouldBe(1);
        (await node.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeTrue();

        var reset = await node.ResetAsync(Haiku, CancellationToken.None);
        reset!.State.ShouldBe("closed");
        reset.OpenCount.ShouldBe(0);
        reset.Version.ShouldBe(closed.Version + 1);
        (await _store.ReadAsync(Haiku, CancellationToken.None))!.OpenCount.ShouldBe(0);
    }

    [Fact]
    public async Task Report_LeaseFromBeforeClose_NotCounted()
    {
        var node = NewNode();
        var lease = await node.AcquireAsync(Haiku, CancellationToken.None);
        await node.CloseAsync(Haiku, CancellationToken.None);

        node.Report(lease, 500, Fast);

        var info = await node.GetAsync(Haiku, CancellationToken.None);
        info!.ConsecutiveFailures.ShouldBe(0);
        info.CallsInWindow.ShouldBe(0);
    }

    [Fact]
    public async Task Report_ClientErrorAndRefusedLease_NothingStored()
    {
        var node = NewNode();
        var lease = await node.AcquireAsync(Haiku, CancellationToken.None);
        var version = (await node.GetAsync(Haiku, CancellationToken.None))!.Version;

        node.Report(lease, 404, Fast);
        node.Report(new BreakerLease(Haiku, false, false, 0, 0, null), 500, Fast);

        var info = await node.GetAsync(Haiku, CancellationToken.None);
        info!.Version.ShouldBe(version);
        info.CallsInWindow.ShouldBe(0);
    }

    [Fact]
    public async Task Report_SlowSuccess_CountedAsFailure()
    {
        var node = NewNode();
        var lease = await node.AcquireAsync(Haiku, CancellationToken.None);

        node.Report(lease, 200, TimeSpan.FromSeconds(11));

        var info = await node.GetAsync(Haiku, CancellationToken.None);
        info!.FailuresInWindow.ShouldBe(1);
        info.ConsecutiveFailures.ShouldBe(1);
    }

    [Fact]
    public async Task Report_ClosedStateOutcomes_CountInTheNodesOwnWindow_AndWriteNothing()
    {
        var a = NewNode();
        var b = NewNode();
        var leaseB = await b.AcquireAsync(Haiku, CancellationToken.None);
        var leaseA = await a.AcquireAsync(Haiku, CancellationToken.None);

        a.Report(leaseA, 500, Fast);
        b.Report(leaseB, 500, Fast);

        var infoA = await a.GetAsync(Haiku, CancellationToken.None);
        var infoB = await b.GetAsync(Haiku, CancellationToken.None);
        infoA!.ConsecutiveFailures.ShouldBe(1);
        infoB!.ConsecutiveFailures.ShouldBe(1);
        infoA.Version.ShouldBe(0);
        (await _store.ReadAsync(Haiku, CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task Report_OpeningFailure_WritesTheOpenWithTheWindow_AndEveryNodeSeesItAfterARefresh()
    {
        var a = NewNode();
        var b = NewNode();
        (await b.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeTrue();

        await OpenAsync(a);

        var stored = (await _store.ReadAsync(Haiku, CancellationToken.None))!;
        stored.Status.ShouldBe(BreakerStatus.Open);
        stored.Version.ShouldBe(1);
        stored.ConsecutiveFailures.ShouldBe(5);
        b.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Closed);
        (await b.RefreshAsync(CancellationToken.None)).ShouldBe(1);
        b.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);
        Synchronously(b.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeFalse();
    }

    [Fact]
    public async Task Report_WriteConflictWithOpenedBreaker_NotCountedAndViewOpens()
    {
        var a = NewNode();
        var b = NewNode();
        var leaseB = await b.AcquireAsync(Haiku, CancellationToken.None);
        await OpenAsync(a);

        b.Report(leaseB, 500, Fast);

        var info = await b.GetAsync(Haiku, CancellationToken.None);
        info!.State.ShouldBe("open");
        info.OpenCount.ShouldBe(1);
        b.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);
        (await _store.ReadAsync(Haiku, CancellationToken.None))!.Version.ShouldBe(info.Version);
    }

    [Fact]
    public async Task Transitions_ReachTheSinkAfterTheChangeIsStoredAndPublished()
    {
        BreakerView? seenView = null;
        BreakerState? seenStored = null;
        var heard = new List<BreakerTransition>();
        ModelBreakers node = null!;
        var sink = new RecordingSink((model, transition) =>
        {
            heard.Add(transition);
            seenView = node.ViewOf(model);
            seenStored = StoredNow(model);
        });
        node = NewNode(sink: sink);

        await OpenAsync(node);

        heard.ShouldBe([new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, Now)]);
        seenView!.Status.ShouldBe(BreakerStatus.Open);
        seenStored!.Status.ShouldBe(BreakerStatus.Open);
    }

    [Fact]
    public async Task Transitions_SinkThrows_ChangeStands()
    {
        var node = NewNode(sink: new RecordingSink((_, _) => throw new InvalidOperationException("alerting is down")));

        await OpenAsync(node);

        (await node.GetAsync(Haiku, CancellationToken.None))!.State.ShouldBe("open");
    }

    [Fact]
    public async Task ListAsync_EveryServedModelInNameOrder()
    {
        var node = NewNode();

        var all = await node.ListAsync(CancellationToken.None);

        all.Select(b => (b.Model, b.State)).ShouldBe([(Haiku, "closed"), ("sonnet", "closed")]);
    }

    [Fact]
    public async Task UnknownModel_NullForOperatorsAndArgumentExceptionForCallers()
    {
        var node = NewNode();

        (await node.GetAsync("gpt-9", CancellationToken.None)).ShouldBeNull();
        (await node.IsolateAsync("gpt-9", CancellationToken.None)).ShouldBeNull();
        Should.Throw<ArgumentException>(() => node.AcquireAsync("gpt-9", CancellationToken.None));
        (await node.GetAsync("HAIKU", CancellationToken.None))!.Model.ShouldBe(Haiku);
    }

    private ModelBreakers NewNode(BreakerOptions? options = null, IBreakerTransitionSink? sink = null)
    {
        var node = new ModelBreakers(
            [Haiku, "sonnet"], _store, options ?? new BreakerOptions(), new ActorHostOptions(), _time, NullLoggerFactory.Instance, sink);
        _nodes.Add(node);
        return node;
    }

    /// <summary>The lease of an acquire that must have completed synchronously (no actor turn).</summary>
    private static BreakerLease Synchronously(ValueTask<BreakerLease> pending)
    {
        pending.IsCompletedSuccessfully.ShouldBeTrue();
        return pending.Result;
    }

    /// <summary>The in-memory store answers synchronously.</summary>
    private BreakerState? StoredNow(string model)
    {
        var read = _store.ReadAsync(model, CancellationToken.None);
        read.IsCompletedSuccessfully.ShouldBeTrue();
        return read.Result;
    }

    /// <summary>Five failures in a row: the default consecutive threshold opens the breaker.</summary>
    private static async Task OpenAsync(ModelBreakers node)
    {
        for (var i = 0; i < BreakerOptions.DefaultConsecutiveFailureThreshold; i++)
        {
            node.Report(await node.AcquireAsync(Haiku, CancellationToken.None), 500, Fast);
        }

        (await node.GetAsync(Haiku, CancellationToken.None))!.State.ShouldBe("open");
    }

    private sealed class RecordingSink(Action<string, BreakerTransition> onTransition) : IBreakerTransitionSink
    {
        public void OnTransition(string model, BreakerTransition transition) => onTransition(model, transition);
    }
}
