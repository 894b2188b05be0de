using Microsoft.Extensions.DependencyInjection;
using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains.Tests.Infrastructure;

namespace AgentGateway.Grains.Tests.Sessions;

/// <summary>
/// The session grain on a two-silo test cluster with fake time: every decision one turn of the session's single
/// activation, whichever silo the call enters by, and stored before it answers.
/// </summary>
[Collection(SessionClusterCollection.Name)]
public sealed class SessionGrainTests(SessionClusterFixture fixture)
{
    private static readonly ulong Task1 = TaskFingerprint.Compute(1, "do it [[sim:loop]]");

    private IGrainFactory Grains => fixture.Cluster.Grains;

    [Fact]
    public async Task AdmitAsync_1000ConcurrentContinuations_ExactlyMaxLoopsAllowed_OneTrip_StoredOnce()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 1_000).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await session.AdmitAsync(Continue(Task1));
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        results.Count(a => a.Allowed).ShouldBe(5);
        results.Where(a => a.Allowed).Select(a => a.LoopCount).Order().ShouldBe([1, 2, 3, 4, 5]);
        results.Count(a => a.NewlyTripped).ShouldBe(1);
        results.Where(a => !a.Allowed).ShouldAllBe(a => a.TripReason == TripReason.LoopLimit && !a.Busy);
        var view = (await session.GetAsync(withAudit: false))!;
        view.Status.ShouldBe("tripped");
        view.ModelCalls.ShouldBe(5);
        var stored = (await fixture.Store.ReadAsync(id, CancellationToken.None))!;
        stored.LoopCount.ShouldBe(5);
        stored.Version.ShouldBe(6); // five admissions and the trip; the 994 refusals of a tripped session wrote nothing
    }

    [Fact]
    public async Task AdmitAsync_Trip_ItsAlertIsInTheOutboxWhenTheRefusalIsAnswered()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        for (var i = 0; i < 5; i++)
        {
            (await session.AdmitAsync(Continue(Task1))).Allowed.ShouldBeTrue();
        }

        var trip = await session.AdmitAsync(Continue(Task1));

        trip.NewlyTripped.ShouldBeTrue();
        var alerts = await Grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox).ListAsync();
        alerts.ShouldContain(a => a.Body.SessionId == id && a.Body.Reason == "loop_limit" && a.Body.LoopCount == 5);
    }

    [Fact]
    public async Task Activation_ATripStoredWithoutItsAlert_TheAlertIsRaisedOnce_AgainAfterAnotherActivationNothingNew()
    {
        // A process stored this trip and died before its alert was stored (written here straight to the store).
        var id = SessionClusterFixture.NewId();
        var now = fixture.Cluster.Time.GetUtcNow();
        (await fixture.Store.TryWriteAsync(
            new SessionState(id, 1, SessionStatus.Tripped, TripReason.LoopLimit, now, 5, 5, 1, [1], [], [], now, "acme"), 0, CancellationToken.None)).ShouldBeTrue();
        var outbox = Grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox);

        var view = await Grains.GetGrain<ISessionGrain>(id).GetAsync(withAudit: false);
        await fixture.Cluster.Cluster.DeactivateAsync(Grains.GetGrain<ISessionGrain>(id));
        await Grains.GetGrain<ISessionGrain>(id).GetAsync(withAudit: false);

        view!.Status.ShouldBe("tripped");
        var alert = (await outbox.ListAsync()).Where(a => a.Body.SessionId == id).ShouldHaveSingleItem();
        alert.Body.Reason.ShouldBe("loop_limit");
        alert.Body.Tenant.ShouldBe("acme");
        alert.Body.Time.ShouldBe(now);
    }

    [Fact]
    public async Task ResumeAsync_Tripped_LoopCountAndWindowStartAfresh_AdmittedAgain()
    {
        var session = Grains.GetGrain<ISessionGrain>(SessionClusterFixture.NewId());
        for (var i = 0; i < 6; i++)
        {
            await session.AdmitAsync(Continue(Task1));
        }

        var resumed = await session.ResumeAsync("looked at it");
        var again = await session.AdmitAsync(Continue(Task1));

        resumed.Outcome.ShouldBe(SessionActionOutcome.Done);
        resumed.View!.Status.ShouldBe("active");
        resumed.View.LoopCount.ShouldBe(0);
        resumed.View.TokensInWindow.ShouldBe(0);
        again.ShouldBe(new Admission(true, TripReason.None, false, 1, 3));
    }

    [Fact]
    public async Task SettleAsync_AfterAdmit_CorrectsTheWindow_WrittenWithTheNextDecisionNotOnItsOwn()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        var admission = await session.AdmitAsync(User(Task1, inputTokens: 40));

        await session.SettleAsync(new CallSettlement(admission.ReservedInputTokens, 35, 4_000));
        await fixture.Calls.WhenCompleted(id, nameof(ISessionGrain.SettleAsync));
        var view = (await session.GetAsync(withAudit: false))!;

        view.TokensInWindow.ShouldBe(4_035);
        view.Version.ShouldBe(1);
        (await fixture.Store.ReadAsync(id, CancellationToken.None))!.Version.ShouldBe(1);

        await session.AdmitAsync(Continue(Task1));
        var stored = (await fixture.Store.ReadAsync(id, CancellationToken.None))!;
        stored.Version.ShouldBe(2);
        stored.WindowTokens.Sum().ShouldBe(4_038);
    }

    [Fact]
    public async Task ChargeAsync_GrantsWriteNothing_TheCutOffThatTripsIsStored()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        await session.AdmitAsync(User(Task1, inputTokens: 9_000));

        var grant = await session.ChargeAsync(new StreamCharge(1, 256, "haiku"));
        var cut = await session.ChargeAsync(new StreamCharge(900, 900, "haiku"));

        grant.ShouldBe(new TokenGrant(true, 256, TripReason.None, false, 256));
        cut.ShouldBe(new TokenGrant(false, 0, TripReason.TokenVelocity, true, 900));
        var stored = (await fixture.Store.ReadAsync(id, CancellationToken.None))!;
        stored.Version.ShouldBe(2);
        stored.Status.ShouldBe(SessionStatus.Tripped);
        stored.TripReason.ShouldBe(TripReason.TokenVelocity);
        stored.WindowTokens.Sum().ShouldBe(10_156);
    }

    [Fact]
    public async Task ChargeAsync_AnotherRequestTripsTheLoopLimit_TheAdmittedStreamRunsOnWithinTheBudget()
    {
        var session = Grains.GetGrain<ISessionGrain>(SessionClusterFixture.NewId());
        for (var i = 0; i < 5; i++)
        {
            (await session.AdmitAsync(Continue(Task1))).Allowed.ShouldBeTrue();
        }

        (await session.AdmitAsync(Continue(Task1))).NewlyTripped.ShouldBeTrue();
        var grant = await session.ChargeAsync(new StreamCharge(1, 256, "haiku"));

        grant.ShouldBe(new TokenGrant(true, 256, TripReason.None, false, 256));
    }

    [Fact]
    public async Task ChargeAsync_OperatorEndedTheSession_TheStreamIsCutOffWithSessionEnded()
    {
        var session = Grains.GetGrain<ISessionGrain>(SessionClusterFixture.NewId());
        await session.AdmitAsync(User(Task1));

        (await session.EndAsync("closing it")).Outcome.ShouldBe(SessionActionOutcome.Done);
        var cut = await session.ChargeAsync(new StreamCharge(1, 256, "haiku"));

        cut.ShouldBe(new TokenGrant(false, 0, TripReason.SessionEnded, false, 0));
    }

    [Fact]
    public async Task GetAsync_UnknownSession_NullAndNothingStored()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);

        (await session.GetAsync(withAudit: false)).ShouldBeNull();
        (await session.ResumeAsync(null)).ShouldBe(new SessionActionResult(SessionActionOutcome.NotFound, null));
        (await session.EndAsync("x")).ShouldBe(new SessionActionResult(SessionActionOutcome.NotFound, null));
        (await fixture.Store.ReadAsync(id, CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task AdmitAsync_AfterDeactivation_TheNextActivationReadsTheStoredState()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        for (var i = 0; i < 3; i++)
        {
            await session.AdmitAsync(Continue(Task1));
        }

        await fixture.Cluster.Cluster.DeactivateAsync(session);
        var fourth = await session.AdmitAsync(Continue(Task1));

        fourth.LoopCount.ShouldBe(4);
    }

    [Fact]
    public async Task AdmitAsync_AnotherWriterMovedTheStoredSessionOn_BusyNothingCounted_ThenDecidedOnTheStoredState()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        await session.AdmitAsync(User(Task1));

        // Another process (sharing the store, with no membership between them) admits two calls of the same session.
        var stored = (await fixture.Store.ReadAsync(id, CancellationToken.None))!;
        (await fixture.Store.TryWriteAsync(stored with { Version = 2, LoopCount = 3, ModelCalls = 3 }, 1, CancellationToken.None)).ShouldBeTrue();

        var busy = await session.AdmitAsync(Continue(Task1));
        var next = await session.AdmitAsync(Continue(Task1));

        busy.ShouldBe(Admission.Conflict());
        next.LoopCount.ShouldBe(4);
        (await fixture.Store.ReadAsync(id, CancellationToken.None))!.ModelCalls.ShouldBe(4);
    }

    [Fact]
    public async Task ClaimAsync_TwoTenantsRacingFor100NewIds_ExactlyOneOwnerEach()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => SessionClusterFixture.NewId()).ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claims = ids.SelectMany(id => new[] { "acme", "globex" }.Select(tenant => Task.Run(async () =>
        {
            await start.Task;
            return (id, tenant, claim: await Grains.GetGrain<ISessionGrain>(id).ClaimAsync(tenant));
        }))).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(claims);

        foreach (var id in ids)
        {
            var winner = results.Where(r => r.id == id && r.claim == SessionClaim.Owned).ShouldHaveSingleItem();
            results.Single(r => r.id == id && r.tenant != winner.tenant).claim.ShouldBe(SessionClaim.Forbidden);
            (await fixture.Store.ReadAsync(id, CancellationToken.None))!.Owner.ShouldBe(winner.tenant);
        }
    }

    [Fact]
    public async Task AdmitAsync_TwoTenantsRacingForANewId_OnlyTheOwnerIsEverAdmitted()
    {
        var id = SessionClusterFixture.NewId();
        var session = Grains.GetGrain<ISessionGrain>(id);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var admits = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var tenant = i % 2 == 0 ? "acme" : "globex";
            return (tenant, admission: await session.AdmitAsync(Continue(Task1) with { Tenant = tenant }));
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(admits);

        var owner = (await fixture.Store.ReadAsync(id, CancellationToken.None))!.Owner!;
        results.Where(r => r.tenant != owner).ShouldAllBe(r => r.admission.Forbidden && !r.admission.Allowed);
        results.Where(r => r.tenant == owner).ShouldAllBe(r => !r.admission.Forbidden);
        results.Count(r => r.admission.Allowed).ShouldBe(5);
    }

    [Fact]
    public async Task EndAsync_Tripped_RefusedWithSessionEnded_ResumeAndEndAgainAreEnded_AuditHasTheNote()
    {
        var session = Grains.GetGrain<ISessionGrain>(SessionClusterFixture.NewId());
        for (var i = 0; i < 6; i++)
        {
            await session.AdmitAsync(Continue(Task1) with { Tenant = "acme" });
        }

        var ended = await session.EndAsync("closing it");
        var refused = await session.AdmitAsync(new TurnInfo(TurnKind.UserMessage, TaskFingerprint.Compute(1, "new task"), 3, "acme"));
        var resumed = await session.ResumeAsync("reopen");
        var endedAgain = await session.EndAsync(null);

        ended.Outcome.ShouldBe(SessionActionOutcome.Done);
        ended.View!.Status.ShouldBe("ended");
        ended.View.TripReason.ShouldBe("loop_limit");
        refused.ShouldBe(Admission.Refused(TripReason.SessionEnded, newlyTripped: false, 5));
        resumed.Outcome.ShouldBe(SessionActionOutcome.Ended);
        resumed.View!.Status.ShouldBe("ended");
        endedAgain.Outcome.ShouldBe(SessionActionOutcome.Ended);
        var detail = (await session.GetAsync(withAudit: true))!;
        detail.Audit!.Select(e => (e.Decision, e.Note)).ShouldBe(
        [
            ("admitted", null), ("admitted", null), ("admitted", null), ("admitted", null), ("admitted", null),
            ("refused", null), ("ended", "closing it"),
        ]);
    }

    [Fact]
    public async Task GrainReferences_FromEachSilo_ReachTheSameActivationAsGetGrain()
    {
        var id = SessionClusterFixture.NewId();
        var first = fixture.Cluster.ServicesOf(0).GetRequiredService<GrainReferences<ISessionGrain>>().Get(id);
        var second = fixture.Cluster.ServicesOf(1).GetRequiredService<GrainReferences<ISessionGrain>>().Get(id);

        first.GetGrainId().ShouldBe(Grains.GetGrain<ISessionGrain>(id).GetGrainId());
        (await first.AdmitAsync(Continue(Task1))).LoopCount.ShouldBe(1);
        (await second.AdmitAsync(Continue(Task1))).LoopCount.ShouldBe(2);
        (await Grains.GetGrain<ISessionGrain>(id).GetAsync(withAudit: false))!.ModelCalls.ShouldBe(2);
    }

    private static TurnInfo User(ulong task, int inputTokens = 3) => new(TurnKind.UserMessage, task, inputTokens);

    private static TurnInfo Continue(ulong task, int inputTokens = 3) => new(TurnKind.Continuation, task, inputTokens);
}
