using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Tests.Infrastructure;
using static AgentGateway.Grains.Tests.Infrastructure.BreakerNodes;

namespace AgentGateway.Grains.Tests.Breakers;

/// <summary>
/// A silo's breakers over the breaker grains (one silo here; the cluster-wide behaviour is in
/// <see cref="BreakerClusterTests"/>): the hot path from the silo's view, outcomes in batches, operator actions.
/// </summary>
[Collection(BreakerCollection.Name)]
public sealed class ModelBreakersTests : IAsyncLifetime
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(200);
    private BreakerNodes _nodes = null!;

    private DateTimeOffset Now => _nodes.Time.GetUtcNow();

    public async Task InitializeAsync() => _nodes = await StartAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public void AcquireAsync_Closed_CompletesSynchronouslyFromTheViewPushedAtStart()
    {
        var breakers = _nodes.Silo(0);

        var lease = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();

        lease.ShouldBe(new BreakerLease(Haiku, true, false, breakers.ViewOf(Haiku)!.Epoch, 0, null));
        _nodes.Calls.Of(nameof(IBreakerGrain.AcquireAsync)).ShouldBe(0);
        _nodes.Calls.Of(nameof(IBreakerGrain.SubscribeAsync)).ShouldBe(2);
    }

    [Fact]
    public void AcquireAsync_Closed_AllocatesNothing()
    {
        var breakers = _nodes.Silo(0);
        for (var i = 0; i < 100; i++)
        {
            _ = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _ = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    [Fact]
    public async Task Flow_Closed_Open_HalfOpen_Closed()
    {
        var breakers = _nodes.Silo(0);
        var allowed = 0;
        for (var i = 0; i < 12; i++)
        {
            var lease = await breakers.AcquireAsync(Haiku, CancellationToken.None);
            allowed += lease.Allowed ? 1 : 0;
            await breakers.ReportAsync(lease, 500, Fast);
        }

        // The fifth failure's report returned once the breaker had opened, so the sixth call was refused from the view.
        allowed.ShouldBe(5);
        breakers.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);
        var open = await breakers.GetAsync(Haiku, CancellationToken.None);
        open!.State.ShouldBe("open");
        open.OpenCount.ShouldBe(1);
        open.ConsecutiveFailures.ShouldBe(5);
        open.NextHalfOpenAt.ShouldBe(Now.AddSeconds(30));
        open.Version.ShouldBe(1);

        _nodes.Time.Advance(TimeSpan.FromSeconds(29.999));
        var refused = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        refused.Allowed.ShouldBeFalse();
        refused.RetryAt.ShouldBe(open.NextHalfOpenAt);

        _nodes.Time.Advance(TimeSpan.FromMilliseconds(1));
        var probe = await breakers.AcquireAsync(Haiku, CancellationToken.None);
        probe.Allowed.ShouldBeTrue();
        probe.IsProbe.ShouldBeTrue();
        (await breakers.AcquireAsync(Haiku, CancellationToken.None)).Allowed.ShouldBeFalse();
        var halfOpen = await breakers.GetAsync(Haiku, CancellationToken.None);
        halfOpen!.State.ShouldBe("half-open");
        halfOpen.ProbesInFlight.ShouldBe(1);
        halfOpen.Version.ShouldBe(2);

        await breakers.ReportAsync(probe, 200, Fast);

        breakers.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Closed);
        var closed = await breakers.GetAsync(Haiku, CancellationToken.None);
        closed!.State.ShouldBe("closed");
        closed.OpenCount.ShouldBe(1);
        closed.CallsInWindow.ShouldBe(0);
        closed.BreakSeconds.ShouldBe(30);
        closed.Version.ShouldBe(3);
        breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously().Allowed.ShouldBeTrue();
    }

    [Fact]
    public async Task Flow_ProbeFails_ReopensWithTheBreakDoubled()
    {
        var breakers = _nodes.Silo(0);
        await OpenAsync(breakers);
        _nodes.Time.Advance(TimeSpan.FromSeconds(30));
        var probe = await breakers.AcquireAsync(Haiku, CancellationToken.None);

        await breakers.ReportAsync(probe, 503, Fast);

        var reopened = await breakers.GetAsync(Haiku, CancellationToken.None);
        reopened!.State.ShouldBe("open");
        reopened.OpenCount.ShouldBe(2);
        reopened.BreakSeconds.ShouldBe(60);
        reopened.NextHalfOpenAt.ShouldBe(Now.AddSeconds(60));
        breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously().RetryAt.ShouldBe(Now.AddSeconds(60));
    }

    [Fact]
    public async Task ReportAsync_ClosedStateSuccesses_HeldUntilTheReportInterval_OneGrainCallAndNoWrite()
    {
        var breakers = _nodes.Silo(0);
        for (var i = 0; i < 100; i++)
        {
            var report = breakers.ReportAsync(breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously(), 200, Fast);
            report.IsCompletedSuccessfully.ShouldBeTrue();
        }

        _nodes.Time.Advance(BreakerOptions.DefaultReportInterval - TimeSpan.FromTicks(1));
        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(0);

        _nodes.Time.Advance(TimeSpan.FromTicks(1));
        var info = await breakers.GetAsync(Haiku, CancellationToken.None); // waits for the flush in flight

        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(1);
        info!.CallsInWindow.ShouldBe(100);
        info.FailuresInWindow.ShouldBe(0);
        info.Version.ShouldBe(0);
        _nodes.StoredNow(Haiku).ShouldBeNull();
    }

    [Fact]
    public async Task ReportAsync_Failure_WaitsUntilCounted_WithTheSuccessesBeforeItInOrder()
    {
        var breakers = _nodes.Silo(0);
        await ReportAsync(breakers, 500, 500, 500, 500, 200, 500, 500, 500, 500);

        // Consecutive failures count from the success, which was sent with them, in its place.
        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(8);
        var info = await breakers.GetAsync(Haiku, CancellationToken.None);
        info!.State.ShouldBe("closed");
        info.ConsecutiveFailures.ShouldBe(4);
        info.CallsInWindow.ShouldBe(9);

        await ReportAsync(breakers, 500);

        breakers.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);
    }

    [Fact]
    public async Task ReportAsync_FailuresWhileAFlushIsInFlight_AllGoInTheNextFlush()
    {
        await using var nodes = await StartAsync(options: new BreakerOptions { ConsecutiveFailureThreshold = 100 });
        var breakers = nodes.Silo(0);
        var leases = Enumerable.Range(0, 10).Select(_ => breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously()).ToArray();
        var held = nodes.Calls.HoldReports();
        var first = breakers.ReportAsync(leases[0], 500, Fast).AsTask();
        await held.WaitAsync(TimeSpan.FromSeconds(10));

        var rest = leases.Skip(1).Select(lease => breakers.ReportAsync(lease, 502, Fast).AsTask()).ToArray();
        first.IsCompleted.ShouldBeFalse();
        rest.ShouldAllBe(r => !r.IsCompleted);
        nodes.Calls.OpenReports();
        await Task.WhenAll([first, .. rest]);

        nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(2);
        (await breakers.GetAsync(Haiku, CancellationToken.None))!.ConsecutiveFailures.ShouldBe(10);
    }

    [Fact]
    public async Task ReportAsync_SlowSuccess_CountedAsFailureBeforeItReturns()
    {
        var breakers = _nodes.Silo(0);
        var lease = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();

        await breakers.ReportAsync(lease, 200, TimeSpan.FromSeconds(11));

        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(1);
        var info = await breakers.GetAsync(Haiku, CancellationToken.None);
        info!.FailuresInWindow.ShouldBe(1);
        info.ConsecutiveFailures.ShouldBe(1);
    }

    [Fact]
    public async Task ReportAsync_ClientErrorAndRefusedLease_NothingSentNothingStored()
    {
        var breakers = _nodes.Silo(0);
        var lease = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();

        breakers.ReportAsync(lease, 404, Fast).IsCompletedSuccessfully.ShouldBeTrue();
        breakers.ReportAsync(new BreakerLease(Haiku, false, false, 0, 0, null), 500, Fast).IsCompletedSuccessfully.ShouldBeTrue();

        var info = await breakers.GetAsync(Haiku, CancellationToken.None);
        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(0);
        info!.Version.ShouldBe(0);
        info.CallsInWindow.ShouldBe(0);
    }

    [Fact]
    public async Task ReportAsync_LeaseFromBeforeClose_NotCounted()
    {
        var breakers = _nodes.Silo(0);
        var lease = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        await breakers.CloseAsync(Haiku, CancellationToken.None);

        await breakers.ReportAsync(lease, 500, Fast);

        var info = await breakers.GetAsync(Haiku, CancellationToken.None);
        info!.ConsecutiveFailures.ShouldBe(0);
        info.CallsInWindow.ShouldBe(0);
    }

    [Fact]
    public async Task Isolate_Close_Reset_OperatorActions()
    {
        var breakers = _nodes.Silo(0);
        await OpenAsync(breakers);

        var isolated = await breakers.IsolateAsync(Haiku, CancellationToken.None);
        isolated!.State.ShouldBe("isolated");
        isolated.NextHalfOpenAt.ShouldBeNull();
        isolated.Version.ShouldBe(2);
        _nodes.Time.Advance(TimeSpan.FromHours(1));
        var refused = breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously();
        refused.Allowed.ShouldBeFalse();
        refused.RetryAt.ShouldBeNull();

        var closed = await breakers.CloseAsync(Haiku, CancellationToken.None);
        closed!.State.ShouldBe("closed");
        closed.OpenCount.ShouldBe(1);
        closed.Version.ShouldBe(3);
        breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously().Allowed.ShouldBeTrue();

        var reset = await breakers.ResetAsync(Haiku, CancellationToken.None);
        reset!.State.ShouldBe("closed");
        reset.OpenCount.ShouldBe(0);
        reset.Version.ShouldBe(4);
        _nodes.StoredNow(Haiku)!.OpenCount.ShouldBe(0);
    }

    [Fact]
    public async Task ListAsync_EveryServedModelInNameOrder()
    {
        var all = await _nodes.Silo(0).ListAsync(CancellationToken.None);

        all.Select(b => (b.Model, b.State)).ShouldBe([(Haiku, "closed"), (Sonnet, "closed")]);
    }

    [Fact]
    public async Task UnknownModel_NullForOperatorsAndArgumentExceptionForCallers()
    {
        var breakers = _nodes.Silo(0);

        (await breakers.GetAsync("gpt-9", CancellationToken.None)).ShouldBeNull();
        (await breakers.IsolateAsync("gpt-9", CancellationToken.None)).ShouldBeNull();
        Should.Throw<ArgumentException>(() => breakers.AcquireAsync("gpt-9", CancellationToken.None));
        (await breakers.GetAsync("HAIKU", CancellationToken.None))!.Model.ShouldBe(Haiku);
        breakers.AcquireAsync("HAIKU", CancellationToken.None).Synchronously().Model.ShouldBe(Haiku);
    }

    /// <summary>Five failures in a row: the default consecutive threshold opens the breaker.</summary>
    internal static async Task OpenAsync(Grains.Breakers.ModelBreakers breakers)
    {
        for (var i = 0; i < BreakerOptions.DefaultConsecutiveFailureThreshold; i++)
        {
            await breakers.ReportAsync(await breakers.AcquireAsync(Haiku, CancellationToken.None), 500, Fast);
        }

        breakers.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);
    }

    private static async Task ReportAsync(Grains.Breakers.ModelBreakers breakers, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            await breakers.ReportAsync(breakers.AcquireAsync(Haiku, CancellationToken.None).Synchronously(), status, Fast);
        }
    }
}
