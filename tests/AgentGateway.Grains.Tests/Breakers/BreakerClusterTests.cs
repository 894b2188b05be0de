using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Tests.Infrastructure;
using static AgentGateway.Grains.Tests.Infrastructure.BreakerNodes;

namespace AgentGateway.Grains.Tests.Breakers;

/// <summary>
/// The breakers of three silos: one grain per model decides for all of them (probes bounded cluster-wide), and pushes
/// every change to every silo's view.
/// </summary>
[Collection(BreakerCollection.Name)]
public sealed class BreakerClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(200);
    private BreakerNodes _nodes = null!;

    public async Task InitializeAsync() => _nodes = await StartAsync(silos: 3, options: new BreakerOptions { HalfOpenMaxProbes = 2 });

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public void Start_EverySiloSubscribed_OneBreakerActivationPerModelInTheCluster()
    {
        Enumerable.Range(0, 3).Sum(i => _nodes.ActivationsOf(i).Breakers).ShouldBe(2);
        _nodes.Calls.Of(nameof(IBreakerGrain.SubscribeAsync)).ShouldBe(6);
        for (var i = 0; i < 3; i++)
        {
            _nodes.Silo(i).ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Closed);
        }
    }

    [Fact]
    public async Task AcquireAsync_HalfOpen600ConcurrentThroughThreeSilos_ExactlyMaxProbesAcrossTheCluster()
    {
        await ModelBreakersTests.OpenAsync(_nodes.Silo(0));
        for (var i = 0; i < 3; i++)
        {
            // Else a silo the open has not reached yet admits closed-state calls: the view lags by one push.
            await _nodes.Silo(i).WhenViewAsync(Haiku, static v => v.Status == BreakerStatus.Open);
        }

        _nodes.Time.Advance(TimeSpan.FromSeconds(30));

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acquires = Enumerable.Range(0, 600).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await _nodes.Silo(i % 3).AcquireAsync(Haiku, CancellationToken.None);
        })).ToArray();
        start.SetResult();
        var leases = await Task.WhenAll(acquires);

        var probes = leases.Where(l => l.Allowed).ToArray();
        probes.Length.ShouldBe(2);
        probes.ShouldAllBe(l => l.IsProbe);
        probes.Select(l => l.Ticket).Distinct().Count().ShouldBe(2);
        _nodes.StoredNow(Haiku)!.ProbeTickets!.Order().ShouldBe(probes.Select(l => l.Ticket).Order());
        (await _nodes.Silo(1).GetAsync(Haiku, CancellationToken.None))!.ProbesInFlight.ShouldBe(2);

        // A probe is known by its ticket, whichever silo took it and whichever reports it; its success closes the
        // breaker, and the close reaches every silo's view.
        await _nodes.Silo(2).ReportAsync(probes[0], 200, Fast);

        for (var i = 0; i < 3; i++)
        {
            await _nodes.Silo(i).WhenViewAsync(Haiku, static v => v.Status == BreakerStatus.Closed);
            _nodes.Silo(i).AcquireAsync(Haiku, CancellationToken.None).Synchronously().Allowed.ShouldBeTrue();
        }
    }

    [Fact]
    public async Task IsolateAsync_OnOneSilo_EverySiloRefusesFromItsOwnView_CloseOnAnotherReachesAllAgain()
    {
        var isolated = await _nodes.Silo(0).IsolateAsync(Haiku, CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            var view = await _nodes.Silo(i).WhenViewAsync(Haiku, static v => v.Status == BreakerStatus.Isolated);
            view.Version.ShouldBe(2);
            _nodes.Silo(i).AcquireAsync(Haiku, CancellationToken.None).Synchronously().Allowed.ShouldBeFalse();
            _nodes.Silo(i).AcquireAsync(Sonnet, CancellationToken.None).Synchronously().Allowed.ShouldBeTrue();
        }

        var closed = await _nodes.Silo(2).CloseAsync(Haiku, CancellationToken.None);

        isolated!.Version.ShouldBe(1);
        closed!.Version.ShouldBe(2);
        for (var i = 0; i < 3; i++)
        {
            await _nodes.Silo(i).WhenViewAsync(Haiku, static v => v.Status == BreakerStatus.Closed);
            _nodes.Silo(i).AcquireAsync(Haiku, CancellationToken.None).Synchronously().Allowed.ShouldBeTrue();
        }
    }

    [Fact]
    public async Task ReportAsync_FailuresFromThreeSilos_OneWindow_TheFifthOpensForAll()
    {
        for (var i = 0; i < 4; i++)
        {
            var silo = _nodes.Silo(i % 3);
            await silo.ReportAsync(silo.AcquireAsync(Haiku, CancellationToken.None).Synchronously(), 500, Fast);
        }

        (await _nodes.Silo(0).GetAsync(Haiku, CancellationToken.None))!.ConsecutiveFailures.ShouldBe(4);
        var fifth = _nodes.Silo(1);
        await fifth.ReportAsync(fifth.AcquireAsync(Haiku, CancellationToken.None).Synchronously(), 500, Fast);

        fifth.ViewOf(Haiku)!.Status.ShouldBe(BreakerStatus.Open);
        for (var i = 0; i < 3; i++)
        {
            await _nodes.Silo(i).WhenViewAsync(Haiku, static v => v.Status == BreakerStatus.Open);
            _nodes.Silo(i).AcquireAsync(Haiku, CancellationToken.None).Synchronously().Allowed.ShouldBeFalse();
        }

        _nodes.StoredNow(Haiku)!.Version.ShouldBe(1);
    }

    [Fact]
    public async Task ReportAsync_ClosedStateSuccessesOnEverySilo_OneGrainCallPerSiloPerInterval_NoWrite()
    {
        for (var i = 0; i < 300; i++)
        {
            var silo = _nodes.Silo(i % 3);
            await silo.ReportAsync(silo.AcquireAsync(Haiku, CancellationToken.None).Synchronously(), 200, Fast);
        }

        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(0);
        _nodes.Time.Advance(BreakerOptions.DefaultReportInterval);
        for (var i = 0; i < 3; i++)
        {
            await _nodes.Silo(i).GetAsync(Haiku, CancellationToken.None); // waits for that silo's flush in flight
        }

        _nodes.Calls.Of(nameof(IBreakerGrain.ReportAsync)).ShouldBe(3);
        var info = await _nodes.Silo(0).GetAsync(Haiku, CancellationToken.None);
        info!.CallsInWindow.ShouldBe(300);
        info.Version.ShouldBe(0);
        _nodes.StoredNow(Haiku).ShouldBeNull();
    }
}
