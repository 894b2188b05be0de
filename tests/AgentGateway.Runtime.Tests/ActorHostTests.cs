using AgentGateway.Runtime;
using AgentGateway.TestSupport;

namespace AgentGateway.Runtime.Tests;

public sealed class ActorHostTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly ProbeJournal _journal = new();
    private ActorHost<string, ProbeActor> _host = null!;

    public Task InitializeAsync()
    {
        _host = NewHost(new ActorHostOptions());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task AskAsync_ManyConcurrentCallers_TurnsNeverInterleave()
    {
        const int callers = 1_000;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(asks);

        _journal.Overlaps.ShouldBe(0);
        results.Order().ShouldBe(Enumerable.Range(1, callers));
        _journal.Instances.ShouldBe(1);
    }

    [Fact]
    public async Task AskAsync_SynchronousTurnsFromManyThreads_NeverInterleaveAndNoneLost()
    {
        const int callers = 8;
        const int asksEach = 500;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            var seen = new List<int>(asksEach);
            for (var i = 0; i < asksEach; i++)
            {
                seen.Add(await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountSynchronously()));
                _host.Tell("a", i, static (actor, value) => actor.ReceiveAsync(value));
            }

            return seen;
        })).ToArray();

        start.SetResult();
        var results = (await Task.WhenAll(workers)).SelectMany(r => r).ToArray();
        var received = await _host.AskAsync("a", 0, static (actor, _, _) => ValueTask.FromResult(actor.Received.Count));

        _journal.Overlaps.ShouldBe(0);
        results.Order().ShouldBe(Enumerable.Range(1, callers * asksEach));
        received.ShouldBe(callers * asksEach);
    }

    [Fact]
    public async Task AskAsync_ManyKeys_OneActivationEach()
    {
        var asks = Enumerable.Range(0, 200).Select(i => _host.AskAsync($"k{i % 20}", 0, static (actor, _, _) => actor.CountAsync()));
        await Task.WhenAll(asks);

        _host.ActivationCount.ShouldBe(20);
        _journal.Instances.ShouldBe(20);
        _journal.Events.Count(e => e.StartsWith("activate", StringComparison.Ordinal)).ShouldBe(20);
    }

    [Fact]
    public async Task AskAsync_TurnThrows_FailsOnlyThatCallerAndActivationStaysUsable()
    {
        await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());

        var failing = _host.AskAsync<int, int>("a", 0, static (_, _, _) => throw new InvalidOperationException("boom"));
        var after = _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());

        (await Should.ThrowAsync<InvalidOperationException>(failing)).Message.ShouldBe("boom");
        (await after).ShouldBe(2);
        _journal.Instances.ShouldBe(1);
    }

    [Fact]
    public async Task Tell_InterleavedWithAsks_ProcessedInSendOrder()
    {
        for (var i = 0; i < 100; i++)
        {
            _host.Tell("a", i, static (actor, value) => actor.ReceiveAsync(value));
        }

        var received = await _host.AskAsync("a", 0, static (actor, _, _) => ValueTask.FromResult(actor.Received.ToArray()));

        received.ShouldBe(Enumerable.Range(0, 100));
    }

    [Fact]
    public async Task AskAsync_MailboxFull_RefusedAtOnceAndLaterMessagesStillRun()
    {
        await using var host = NewHost(new ActorHostOptions { MailboxCapacity = 2 });
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocking = host.AskAsync("a", 0, async (_, _, _) =>
        {
            entered.SetResult();
            return await gate.Task;
        });
        await entered.Task;
        var queued1 = host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());
        var queued2 = host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());

        var full = Should.Throw<MailboxFullException>(() => host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync()));

        full.Capacity.ShouldBe(2);
        full.ActorKey.ShouldBe("a");
        gate.SetResult(7);
        (await blocking).ShouldBe(7);
        (await queued1).ShouldBe(1);
        (await queued2).ShouldBe(2);
        (await host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync())).ShouldBe(3);
    }

    [Fact]
    public async Task AskAsync_ActivationFails_CallerGetsErrorAndNextMessageActivatesAnew()
    {
        _journal.FailNextActivation = true;

        var failed = _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());

        (await Should.ThrowAsync<InvalidOperationException>(failed)).Message.ShouldBe("activation failed on purpose");
        (await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync())).ShouldBe(1);
        _journal.Instances.ShouldBe(2);
    }

    [Fact]
    public async Task Collection_IdleForTheTimeout_DeactivatesThenNextMessageReactivates()
    {
        await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());

        _time.Advance(TimeSpan.FromMinutes(9));
        (await _host.LastCollection).ShouldBe(0);
        _host.IsActive("a").ShouldBeTrue();

        _time.Advance(TimeSpan.FromMinutes(1));
        (await _host.LastCollection).ShouldBe(1);
        _host.IsActive("a").ShouldBeFalse();
        _host.ActivationCount.ShouldBe(0);
        _journal.Events.ShouldBe(["activate a#1", "deactivate a#1"]);

        (await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync())).ShouldBe(1);
        _journal.Events.ShouldBe(["activate a#1", "deactivate a#1", "activate a#2"]);
    }

    [Fact]
    public async Task Collection_RecentTurnResetsIdleClock_NotDeactivated()
    {
        await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());
        _time.Advance(TimeSpan.FromMinutes(6));
        await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());

        _time.Advance(TimeSpan.FromMinutes(6));

        (await _host.LastCollection).ShouldBe(0);
        _host.IsActive("a").ShouldBeTrue();
        _time.Advance(TimeSpan.FromMinutes(4));
        (await _host.LastCollection).ShouldBe(1);
    }

    [Fact]
    public async Task Collection_ActorThatCannotDeactivate_KeptUntilItCan()
    {
        await _host.AskAsync("a", 0, static (actor, _, _) => { actor.Busy = true; return ValueTask.FromResult(0); });

        _time.Advance(TimeSpan.FromMinutes(10));
        (await _host.LastCollection).ShouldBe(0);
        _time.Advance(TimeSpan.FromMinutes(10));
        (await _host.LastCollection).ShouldBe(0);
        _host.IsActive("a").ShouldBeTrue();

        await _host.AskAsync("a", 0, static (actor, _, _) => { actor.Busy = false; return ValueTask.FromResult(0); });
        _time.Advance(TimeSpan.FromMinutes(10));
        (await _host.LastCollection).ShouldBe(1);
        _journal.Events.ShouldBe(["activate a#1", "deactivate a#1"]);
    }

    [Fact]
    public async Task Collection_MessageArrivesWhileDeactivating_DeliveredToNewActivation()
    {
        await _host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync());
        _journal.HoldDeactivation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        _time.Advance(TimeSpan.FromMinutes(10));
        await _journal.DeactivationStarted.Task;
        var during = _host.AskAsync("a", 0, static (actor, _, _) => ValueTask.FromResult(actor.Instance));

        (await during).ShouldBe(2);
        _journal.HoldDeactivation.SetResult();
        (await _host.LastCollection).ShouldBe(1);
        _host.IsActive("a").ShouldBeTrue();
    }

    [Fact]
    public async Task DisposeAsync_QueuedMessagesRunThenActorsDeactivate()
    {
        var host = NewHost(new ActorHostOptions());
        var asks = Enumerable.Range(0, 50).Select(_ => host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync())).ToArray();

        await host.DisposeAsync();

        (await Task.WhenAll(asks)).Max().ShouldBe(50);
        _journal.Events[^1].ShouldBe("deactivate a#1");
        Should.Throw<ObjectDisposedException>(() => host.AskAsync("a", 0, static (actor, _, _) => actor.CountAsync()));
    }

    [Fact]
    public void Options_NonPositiveTimes_ReportEveryError()
    {
        var options = new ActorHostOptions { IdleTimeout = TimeSpan.Zero, CollectionInterval = TimeSpan.FromSeconds(-1) };

        var results = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToArray();

        results.Select(r => r.MemberNames.Single()).Order().ShouldBe(["CollectionInterval", "IdleTimeout"]);
    }

    private ActorHost<string, ProbeActor> NewHost(ActorHostOptions options) =>
        new(key => new ProbeActor(key, _journal), options, _time);
}
