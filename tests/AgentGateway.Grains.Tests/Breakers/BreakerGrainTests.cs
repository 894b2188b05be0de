using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Tests.Infrastructure;
using AgentGateway.Providers.Storage;
using AgentGateway.TestSupport;
using static AgentGateway.Grains.Tests.Infrastructure.BreakerNodes;

namespace AgentGateway.Grains.Tests.Breakers;

/// <summary>
/// The breaker grain's own duties: what it stores and when, what a new activation (a restart, a move) comes back with,
/// what another writer of the store does to it, and whom it tells of its transitions.
/// </summary>
[Collection(BreakerCollection.Name)]
public sealed class BreakerGrainTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(200);
    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryBreakerStore _store = new();

    [Fact]
    public async Task Restart_OpenBreaker_ComesBackOpenWithSameBreak_RefusedFromTheFirstAcquire()
    {
        BreakerInfo before;
        await using (var first = await StartAsync(store: _store, time: _time))
        {
            await ModelBreakersTests.OpenAsync(first.Silo(0));
            before = (await first.Silo(0).GetAsync(Haiku, CancellationToken.None))!;
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        await using var second = await StartAsync(store: _store, time: _time);
        var breakers = second.Silo(0);

        var refused = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        var after = await breakers.GetAsync(Haiku, CancellationToken.None);

        refused.ShouldBe(new BreakerLease(Haiku, false, false, breakers.ViewOf(Haiku)!.Epoch, 0, before.NextHalfOpenAt));
        after!.State.ShouldBe("open");
        after.NextHalfOpenAt.ShouldBe(before.NextHalfOpenAt);
        after.OpenCount.ShouldBe(1);
        after.ConsecutiveFailures.ShouldBe(5);
        after.Version.ShouldBe(before.Version);
    }

    [Fact]
    public async Task ReportAsync_LeaseOfAnEarlierActivation_NotCounted_TheSiloResubscribesToTheNewOne()
    {
        await using var nodes = await StartAsync(time: _time);
        var breakers = nodes.Silo(0);
        var oldLease = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        var oldActivation = breakers.ViewOf(Haiku)!.Activation;

        await nodes.Cluster.Cluster.DeactivateAsync(nodes.Grain(Haiku));
        await breakers.ReportAsync(oldLease, 500, Fast);

        var view = breakers.ViewOf(Haiku)!;
        view.Activation.ShouldNotBe(oldActivation);
        view.Epoch.ShouldNotBe(oldLease.Epoch);
        (await breakers.GetAsync(Haiku, CancellationToken.None))!.ConsecutiveFailures.ShouldBe(0);
        nodes.Calls.Of(nameof(IBreakerGrain.SubscribeAsync)).ShouldBe(3);

        // The new activation's lease counts, and the silo is subscribed to it again: the next change is pushed.
        await breakers.ReportAsync(breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously(), 500, Fast);
        (await breakers.GetAsync(Haiku, CancellationToken.None))!.ConsecutiveFailures.ShouldBe(1);
        await nodes.Grain(Haiku).IsolateAsync();
        await breakers.WhenViewAsync(Haiku, static v => v.Status == BreakerStatus.Isolated);
    }

    [Fact]
    public async Task ReportAsync_TheStoreRefusesTheOpen_TheCallerIsAnswered_TheNextActivationDecidesOnTheStoredState()
    {
        await using var nodes = await StartAsync(store: _store, time: _time);
        var breakers = nodes.Silo(0);
        var leases = Enumerable.Range(0, 5).Select(_ => breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously()).ToArray();
        for (var i = 0; i < 4; i++)
        {
            await breakers.ReportAsync(leases[i], 500, Fast);
        }

        // Another process (sharing the store, not the cluster) writes the breaker first.
        var other = new CircuitBreaker(Haiku, new BreakerOptions());
        other.Isolate(_time.GetUtcNow());
        (await _store.TryWriteAsync(other.ToState(1, _time.GetUtcNow()), 0, CancellationToken.None)).ShouldBeTrue();

        await breakers.ReportAsync(leases[4], 500, Fast);

        breakers.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Closed);
        var info = await breakers.GetAsync(Haiku, CancellationToken.None);
        info!.State.ShouldBe("isolated");
        info.Version.ShouldBe(1);
        info.OpenCount.ShouldBe(0);
        breakers.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Isolated);
    }

    [Fact]
    public async Task IsolateAsync_TheStoreRefusesTheWrite_AskedAgainOnTheStoredState()
    {
        await using var nodes = await StartAsync(store: _store, time: _time);
        var breakers = nodes.Silo(0);
        await ModelBreakersTests.OpenAsync(breakers);
        var stored = (await _store.ReadAsync(Haiku, CancellationToken.None))!;
        (await _store.TryWriteAsync(stored with { Version = 2, OpenCount = 7 }, 1, CancellationToken.None)).ShouldBeTrue();

        var isolated = await breakers.IsolateAsync(Haiku, CancellationToken.None);

        nodes.Calls.Of(nameof(IBreakerGrain.IsolateAsync)).ShouldBe(2);
        isolated!.State.ShouldBe("isolated");
        isolated.OpenCount.ShouldBe(7);
        isolated.Version.ShouldBe(3);
        (await _store.ReadAsync(Haiku, CancellationToken.None))!.Status.ShouldBe(BreakerStatus.Isolated);
    }

    [Fact]
    public async Task Transitions_ToEverySinkAfterTheChangeIsStored_OneSinkThrowing_TheChangeStands()
    {
        BreakerState? storedWhenHeard = null;
        var heard = new List<BreakerTransition>();
        var listening = new RecordingSink((model, transition) =>
        {
            heard.Add(transition);
            storedWhenHeard = StoredNow(model);
        });
        var failing = new RecordingSink((_, _) => throw new InvalidOperationException("alerting is down"));
        await using var nodes = await StartAsync(store: _store, sinks: [failing, listening], time: _time);

        await ModelBreakersTests.OpenAsync(nodes.Silo(0));

        heard.ShouldBe([new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, _time.GetUtcNow())]);
        storedWhenHeard!.Status.ShouldBe(BreakerStatus.Open);
        failing.Calls.ShouldBe(1);
        (await nodes.Silo(0).GetAsync(Haiku, CancellationToken.None))!.State.ShouldBe("open");
    }

    [Fact]
    public async Task Activations_CountedByTheSiloThatHostsThem_DeactivationCountedDown()
    {
        await using var nodes = await StartAsync(time: _time);
        nodes.ActivationsOf(0).Breakers.ShouldBe(2);

        await nodes.Cluster.Cluster.DeactivateAsync(nodes.Grain(Sonnet));

        nodes.ActivationsOf(0).Breakers.ShouldBe(1);
    }

    /// <summary>The stored breaker, read synchronously (the in-memory store answers at once).</summary>
    private BreakerState? StoredNow(string model)
    {
        var read = _store.ReadAsync(model, CancellationToken.None);
        read.IsCompletedSuccessfully.ShouldBeTrue();
        return read.Result;
    }

    private sealed class RecordingSink(Action<string, BreakerTransition> onTransition) : IBreakerTransitionSink
    {
        public int Calls { get; private set; }

        public void OnTransition(string model, BreakerTransition transition)
        {
            Calls++;
            onTransition(model, transition);
        }
    }
}
