using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.TestSupport;

namespace AgentGateway.Governance.Tests.Breakers;

public sealed class CircuitBreakerTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(200);
    private readonly FakeTimeProvider _time = new();

    private DateTimeOffset Now => _time.GetUtcNow();

    [Fact]
    public void Flow_Closed_Open_ByFailureRatio()
    {
        // The consecutive rule is out of reach, so only the ratio can open the breaker.
        var breaker = NewBreaker(new BreakerOptions { ConsecutiveFailureThreshold = 100 });
        Succeed(breaker, 6);
        Fail(breaker, 4);
        breaker.Snapshot(Now).FailureRatio.ShouldBe(0.4);

        Fail(breaker, 1);
        breaker.Status.ShouldBe(BreakerStatus.Closed);
        Fail(breaker, 1);

        breaker.Status.ShouldBe(BreakerStatus.Open);
        breaker.Snapshot(Now).ShouldBe(new BreakerSnapshot(
            BreakerStatus.Open, 0.5, 12, 6, 6, Now.AddSeconds(30), 1, TimeSpan.FromSeconds(30), 0, Now));
        breaker.DrainTransitions().ShouldBe(
            [new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.FailureRatio, Now)]);
    }

    [Fact]
    public void OnOutcome_AllFailuresBelowMinimumThroughput_StaysClosedUntilTheTenthCall()
    {
        var breaker = NewBreaker(new BreakerOptions { ConsecutiveFailureThreshold = 100 });

        Fail(breaker, 9);
        breaker.Status.ShouldBe(BreakerStatus.Closed);
        breaker.Snapshot(Now).FailureRatio.ShouldBe(1.0);
        Fail(breaker, 1);

        breaker.Status.ShouldBe(BreakerStatus.Open);
        breaker.DrainTransitions().Single().Reason.ShouldBe(BreakerTransitionReason.FailureRatio);
    }

    [Fact]
    public void OnOutcome_FailuresOlderThanSamplingWindow_NoLongerCount()
    {
        var breaker = NewBreaker(new BreakerOptions { ConsecutiveFailureThreshold = 100 });
        Fail(breaker, 9);

        _time.Advance(TimeSpan.FromSeconds(30));
        breaker.Snapshot(Now).CallsInWindow.ShouldBe(0);
        Fail(breaker, 9);

        breaker.Status.ShouldBe(BreakerStatus.Closed);
        breaker.Snapshot(Now).FailuresInWindow.ShouldBe(9);
        breaker.Snapshot(Now).ConsecutiveFailures.ShouldBe(18);
    }

    [Fact]
    public void Flow_Closed_Open_ByConsecutiveFailures()
    {
        // The ratio rule is out of reach, so only the run of failures can open the breaker.
        var breaker = NewBreaker(new BreakerOptions { MinimumThroughput = 1_000 });
        Fail(breaker, 4);
        Succeed(breaker, 1);
        Fail(breaker, 4);
        breaker.Status.ShouldBe(BreakerStatus.Closed);
        breaker.Snapshot(Now).ConsecutiveFailures.ShouldBe(4);

        Fail(breaker, 1);

        breaker.Status.ShouldBe(BreakerStatus.Open);
        breaker.Snapshot(Now).ConsecutiveFailures.ShouldBe(5);
        breaker.DrainTransitions().ShouldBe(
            [new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, Now)]);
    }

    [Fact]
    public void Flow_Open_HalfOpen_AfterBreakDuration()
    {
        var breaker = NewBreaker();
        var openedAt = Now;
        Fail(breaker, 5);

        _time.Advance(TimeSpan.FromMilliseconds(29_999));
        var early = breaker.TryAcquire(Now);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var probe = breaker.TryAcquire(Now);

        early.IsAllowed.ShouldBeFalse();
        early.Rejection.ShouldBe(BreakerRejection.Open);
        early.RetryAt.ShouldBe(openedAt.AddSeconds(30));
        probe.IsAllowed.ShouldBeTrue();
        probe.IsProbe.ShouldBeTrue();
        breaker.Status.ShouldBe(BreakerStatus.HalfOpen);
        breaker.NextHalfOpenAt.ShouldBeNull();
        breaker.DrainTransitions().ShouldBe(
        [
            new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, openedAt),
            new BreakerTransition(BreakerStatus.Open, BreakerStatus.HalfOpen, BreakerTransitionReason.BreakElapsed, openedAt.AddSeconds(30)),
        ]);
    }

    [Fact]
    public void Flow_HalfOpen_Closed_OnProbeSuccess()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Failure).ShouldBe(RecordedOutcome.Failure);
        breaker.BreakDuration.ShouldBe(TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(60));
        breaker.DrainTransitions();

        var recorded = Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success);

        recorded.ShouldBe(RecordedOutcome.Success);
        breaker.Snapshot(Now).ShouldBe(new BreakerSnapshot(
            BreakerStatus.Closed, 0, 0, 0, 0, null, 2, TimeSpan.FromSeconds(30), 0, Now));
        breaker.DrainTransitions().ShouldBe(
        [
            new BreakerTransition(BreakerStatus.Open, BreakerStatus.HalfOpen, BreakerTransitionReason.BreakElapsed, Now),
            new BreakerTransition(BreakerStatus.HalfOpen, BreakerStatus.Closed, BreakerTransitionReason.ProbeSucceeded, Now),
        ]);

        // Closed again with the first break: the next open serves 30 seconds, not 120.
        Fail(breaker, 5);
        breaker.NextHalfOpenAt.ShouldBe(Now.AddSeconds(30));
    }

    [Fact]
    public void Flow_HalfOpen_Open_DoubledBreak()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        var breaks = new List<double> { (breaker.NextHalfOpenAt!.Value - Now).TotalSeconds };

        for (var i = 0; i < 5; i++)
        {
            _time.Advance(breaker.NextHalfOpenAt!.Value - Now);
            Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Failure).ShouldBe(RecordedOutcome.Failure);
            breaker.Status.ShouldBe(BreakerStatus.Open);
            breaks.Add((breaker.NextHalfOpenAt!.Value - Now).TotalSeconds);
        }

        breaks.ShouldBe([30, 60, 120, 240, 300, 300]);
        breaker.OpenCount.ShouldBe(6);
        breaker.DrainTransitions().Where(t => t.To == BreakerStatus.Open).Select(t => t.Reason).ShouldBe(
        [
            BreakerTransitionReason.ConsecutiveFailures,
            BreakerTransitionReason.ProbeFailed,
            BreakerTransitionReason.ProbeFailed,
            BreakerTransitionReason.ProbeFailed,
            BreakerTransitionReason.ProbeFailed,
            BreakerTransitionReason.ProbeFailed,
        ]);
    }

    [Fact]
    public void Flow_Closed_Open_HalfOpen_Closed()
    {
        var breaker = NewBreaker();
        var start = Now;

        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success);

        breaker.DrainTransitions().Select(t => (t.To, t.At)).ShouldBe(
        [
            (BreakerStatus.Open, start),
            (BreakerStatus.HalfOpen, start.AddSeconds(30)),
            (BreakerStatus.Closed, start.AddSeconds(30)),
        ]);
        breaker.DrainTransitions().ShouldBeEmpty();
    }

    [Fact]
    public void OnOutcome_SlowSuccesses_CountAsFailures()
    {
        var breaker = NewBreaker();
        var threshold = BreakerOptions.DefaultSlowCallThreshold;

        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success, threshold).ShouldBe(RecordedOutcome.Success);
        for (var i = 0; i < 4; i++)
        {
            Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success, threshold + TimeSpan.FromTicks(1))
                .ShouldBe(RecordedOutcome.SlowCall);
        }

        breaker.Status.ShouldBe(BreakerStatus.Closed);
        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success, TimeSpan.FromSeconds(11));

        breaker.Status.ShouldBe(BreakerStatus.Open);
        breaker.Snapshot(Now).CallsInWindow.ShouldBe(6);
        breaker.Snapshot(Now).FailuresInWindow.ShouldBe(5);
    }

    [Fact]
    public void OnOutcome_SlowProbe_ReopensWithDoubledBreak()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));

        var recorded = Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success, TimeSpan.FromSeconds(10.5));

        recorded.ShouldBe(RecordedOutcome.SlowCall);
        breaker.Status.ShouldBe(BreakerStatus.Open);
        breaker.NextHalfOpenAt.ShouldBe(Now.AddSeconds(60));
        breaker.DrainTransitions().Last().Reason.ShouldBe(BreakerTransitionReason.ProbeFailed);
    }

    [Fact]
    public void OnOutcome_ClientErrors_NeitherCountedNorBreakingTheRun()
    {
        var breaker = NewBreaker();
        Fail(breaker, 4);

        for (var i = 0; i < 20; i++)
        {
            Report(breaker, breaker.TryAcquire(Now), BreakerClassifier.FromStatus(404)).ShouldBe(RecordedOutcome.Ignored);
        }

        breaker.Snapshot(Now).CallsInWindow.ShouldBe(4);
        breaker.Snapshot(Now).ConsecutiveFailures.ShouldBe(4);
        Report(breaker, breaker.TryAcquire(Now), BreakerClassifier.FromStatus(503));
        breaker.Status.ShouldBe(BreakerStatus.Open);
        breaker.Snapshot(Now).CallsInWindow.ShouldBe(5);
    }

    [Fact]
    public void OnOutcome_ClientErrorFromProbe_FreesTheSlotAndStaysHalfOpen()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = breaker.TryAcquire(Now);
        breaker.TryAcquire(Now).Rejection.ShouldBe(BreakerRejection.HalfOpenBusy);

        Report(breaker, probe, BreakerOutcome.Ignored).ShouldBe(RecordedOutcome.Ignored);

        breaker.Status.ShouldBe(BreakerStatus.HalfOpen);
        var next = breaker.TryAcquire(Now);
        next.IsAllowed.ShouldBeTrue();
        next.IsProbe.ShouldBeTrue();
    }

    [Fact]
    public void HalfOpen_ManyCallers_ExactlyMaxProbesAdmitted()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));

        var permits = Enumerable.Range(0, 50).Select(_ => breaker.TryAcquire(Now)).ToArray();

        permits.Count(p => p.IsAllowed).ShouldBe(1);
        permits[0].IsProbe.ShouldBeTrue();
        permits.Skip(1).Select(p => p.Rejection).Distinct().ShouldBe([BreakerRejection.HalfOpenBusy]);
        breaker.Snapshot(Now).ProbesInFlight.ShouldBe(1);
    }

    [Fact]
    public void HalfOpen_ManyCallersWithThreeProbes_ExactlyThreeAdmittedAndFirstSuccessCloses()
    {
        var breaker = NewBreaker(new BreakerOptions { HalfOpenMaxProbes = 3 });
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));

        var permits = Enumerable.Range(0, 50).Select(_ => breaker.TryAcquire(Now)).ToArray();
        var probes = permits.Where(p => p.IsAllowed).ToArray();

        probes.Length.ShouldBe(3);
        probes.ShouldAllBe(p => p.IsProbe);
        permits.Take(3).ShouldAllBe(p => p.IsAllowed);
        breaker.Snapshot(Now).ProbesInFlight.ShouldBe(3);

        // A slot freed by an ignored answer goes to the next caller, and no further.
        Report(breaker, probes[0], BreakerOutcome.Ignored);
        Enumerable.Range(0, 10).Count(_ => breaker.TryAcquire(Now).IsAllowed).ShouldBe(1);

        Report(breaker, probes[1], BreakerOutcome.Success).ShouldBe(RecordedOutcome.Success);
        Report(breaker, probes[2], BreakerOutcome.Failure).ShouldBe(RecordedOutcome.Stale);
        breaker.Status.ShouldBe(BreakerStatus.Closed);
        breaker.Snapshot(Now).CallsInWindow.ShouldBe(0);
    }

    [Fact]
    public void HalfOpen_HungProbe_TimesOutAsFailureAndANewProbeFollowsTheBreak()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probeAt = Now;
        var hung = breaker.TryAcquire(Now);
        breaker.DrainTransitions();

        _time.Advance(TimeSpan.FromSeconds(10));
        breaker.TryAcquire(Now).Rejection.ShouldBe(BreakerRejection.HalfOpenBusy);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var afterTimeout = breaker.TryAcquire(Now);

        afterTimeout.Rejection.ShouldBe(BreakerRejection.Open);
        afterTimeout.RetryAt.ShouldBe(probeAt.AddSeconds(10 + 60));
        breaker.DrainTransitions().ShouldBe(
            [new BreakerTransition(BreakerStatus.HalfOpen, BreakerStatus.Open, BreakerTransitionReason.ProbeTimedOut, probeAt.AddSeconds(10))]);

        _time.Advance(probeAt.AddSeconds(70) - Now);
        var fresh = breaker.TryAcquire(Now);
        fresh.IsProbe.ShouldBeTrue();

        // The hung call finally answers: it belongs to a past generation and decides nothing.
        Report(breaker, hung, BreakerOutcome.Success).ShouldBe(RecordedOutcome.Stale);
        breaker.Status.ShouldBe(BreakerStatus.HalfOpen);
        Report(breaker, fresh, BreakerOutcome.Success).ShouldBe(RecordedOutcome.Success);
        breaker.Status.ShouldBe(BreakerStatus.Closed);
    }

    [Fact]
    public void HalfOpen_HungProbeNoticedLate_ReopensAsOfTheTimeoutAndMayProbeAtOnce()
    {
        var breaker = NewBreaker(new BreakerOptions { ProbeTimeout = TimeSpan.FromSeconds(2) });
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probeAt = Now;
        breaker.TryAcquire(Now);
        breaker.DrainTransitions();

        _time.Advance(TimeSpan.FromMinutes(10));
        var permit = breaker.TryAcquire(Now);

        permit.IsProbe.ShouldBeTrue();
        breaker.BreakDuration.ShouldBe(TimeSpan.FromSeconds(60));
        breaker.DrainTransitions().ShouldBe(
        [
            new BreakerTransition(BreakerStatus.HalfOpen, BreakerStatus.Open, BreakerTransitionReason.ProbeTimedOut, probeAt.AddSeconds(2)),
            new BreakerTransition(BreakerStatus.Open, BreakerStatus.HalfOpen, BreakerTransitionReason.BreakElapsed, Now),
        ]);
    }

    [Fact]
    public void OnOutcome_ClosedCallOutlivingABreak_NotCounted()
    {
        var breaker = NewBreaker();
        var slow = breaker.TryAcquire(Now);
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Success);

        Report(breaker, slow, BreakerOutcome.Failure).ShouldBe(RecordedOutcome.Stale);

        breaker.Snapshot(Now).CallsInWindow.ShouldBe(0);
        breaker.Snapshot(Now).ConsecutiveFailures.ShouldBe(0);
    }

    [Fact]
    public void OnOutcome_ProbeReportedTwice_SecondIsStale()
    {
        var breaker = NewBreaker(new BreakerOptions { HalfOpenMaxProbes = 2 });
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = breaker.TryAcquire(Now);

        Report(breaker, probe, BreakerOutcome.Ignored).ShouldBe(RecordedOutcome.Ignored);
        Report(breaker, probe, BreakerOutcome.Failure).ShouldBe(RecordedOutcome.Stale);

        breaker.Status.ShouldBe(BreakerStatus.HalfOpen);
    }

    [Fact]
    public void OnOutcome_RejectedPermit_Throws()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);

        var rejected = breaker.TryAcquire(Now);

        Should.Throw<ArgumentException>(() => breaker.OnOutcome(rejected, BreakerOutcome.Success, Fast, Now));
        Should.Throw<ArgumentException>(() => breaker.OnOutcome(default, BreakerOutcome.Success, Fast, Now));
    }

    [Fact]
    public void Isolate_RefusesEverythingAndTimeDoesNotEndIt_UntilClose()
    {
        var breaker = NewBreaker();
        var isolatedAt = Now;
        Fail(breaker, 5);
        breaker.DrainTransitions();

        breaker.Isolate(Now);
        breaker.Isolate(Now);
        _time.Advance(TimeSpan.FromHours(1));
        var permit = breaker.TryAcquire(Now);

        permit.IsAllowed.ShouldBeFalse();
        permit.Rejection.ShouldBe(BreakerRejection.Isolated);
        permit.RetryAt.ShouldBeNull();
        breaker.Status.ShouldBe(BreakerStatus.Isolated);
        breaker.NextHalfOpenAt.ShouldBeNull();

        breaker.Close(Now);

        breaker.TryAcquire(Now).IsAllowed.ShouldBeTrue();
        breaker.Snapshot(Now).ShouldBe(new BreakerSnapshot(
            BreakerStatus.Closed, 0, 0, 0, 0, null, 1, TimeSpan.FromSeconds(30), 0, Now));
        breaker.DrainTransitions().ShouldBe(
        [
            new BreakerTransition(BreakerStatus.Open, BreakerStatus.Isolated, BreakerTransitionReason.Isolated, isolatedAt),
            new BreakerTransition(BreakerStatus.Isolated, BreakerStatus.Closed, BreakerTransitionReason.ManualClose, Now),
        ]);
    }

    [Fact]
    public void Isolate_DuringHalfOpen_ProbeOutcomeIsStale()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = breaker.TryAcquire(Now);

        breaker.Isolate(Now);

        Report(breaker, probe, BreakerOutcome.Success).ShouldBe(RecordedOutcome.Stale);
        breaker.Status.ShouldBe(BreakerStatus.Isolated);
    }

    [Fact]
    public void Close_ByOperatorWhileOpen_ClosesWithFreshCountsAndFirstBreak()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Failure);
        breaker.DrainTransitions();

        breaker.Close(Now);

        breaker.Snapshot(Now).ShouldBe(new BreakerSnapshot(
            BreakerStatus.Closed, 0, 0, 0, 0, null, 2, TimeSpan.FromSeconds(30), 0, Now));
        breaker.DrainTransitions().ShouldBe(
            [new BreakerTransition(BreakerStatus.Open, BreakerStatus.Closed, BreakerTransitionReason.ManualClose, Now)]);
    }

    [Fact]
    public void Close_WhileClosed_ClearsCountsWithoutTransitionAndEarlierCallsAreStale()
    {
        var breaker = NewBreaker();
        var inFlight = breaker.TryAcquire(Now);
        Fail(breaker, 4);

        breaker.Close(Now);

        breaker.Snapshot(Now).CallsInWindow.ShouldBe(0);
        breaker.Snapshot(Now).ConsecutiveFailures.ShouldBe(0);
        breaker.DrainTransitions().ShouldBeEmpty();
        Report(breaker, inFlight, BreakerOutcome.Failure).ShouldBe(RecordedOutcome.Stale);
    }

    [Fact]
    public void Reset_AfterOpens_NewBreakerWithZeroOpenCount()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        breaker.DrainTransitions();

        breaker.Reset(Now);

        breaker.Snapshot(Now).ShouldBe(new BreakerSnapshot(
            BreakerStatus.Closed, 0, 0, 0, 0, null, 0, TimeSpan.FromSeconds(30), 0, Now));
        breaker.DrainTransitions().ShouldBe(
            [new BreakerTransition(BreakerStatus.Open, BreakerStatus.Closed, BreakerTransitionReason.Reset, Now)]);
    }

    [Fact]
    public void ToStateLoad_OpenWithDoubledBreak_RoundTripSameSnapshotAndDecisions()
    {
        // A window long enough to still hold the calls that opened the breaker when it is exported.
        var options = new BreakerOptions { SamplingDuration = TimeSpan.FromMinutes(2) };
        var breaker = NewBreaker(options);
        Succeed(breaker, 3);
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Failure);
        _time.Advance(TimeSpan.FromSeconds(5));

        var state = breaker.ToState(4, Now);
        var restored = NewBreaker(options);
        restored.Load(state);

        state.Version.ShouldBe(4);
        state.Name.ShouldBe("model-a");
        state.WindowSuccesses.Sum().ShouldBe(3);
        state.WindowFailures.Sum().ShouldBe(5);
        restored.Snapshot(Now).ShouldBe(breaker.Snapshot(Now));
        restored.Snapshot(Now).ShouldBe(new BreakerSnapshot(
            BreakerStatus.Open, 0.625, 8, 5, 5, Now.AddSeconds(55), 2, TimeSpan.FromSeconds(60), 0, Now.AddSeconds(-5)));
        restored.DrainTransitions().ShouldBeEmpty();

        _time.Advance(restored.NextHalfOpenAt!.Value - Now - TimeSpan.FromTicks(1));
        restored.TryAcquire(Now).Rejection.ShouldBe(BreakerRejection.Open);
        _time.Advance(TimeSpan.FromTicks(1));
        restored.TryAcquire(Now).IsProbe.ShouldBeTrue();
    }

    [Fact]
    public void ToStateLoad_ClosedWithFourFailuresInARow_NextFailureOpensRestored()
    {
        var breaker = NewBreaker();
        Fail(breaker, 4);

        var restored = NewBreaker();
        restored.Load(breaker.ToState(1, Now));
        Fail(restored, 1);

        restored.Status.ShouldBe(BreakerStatus.Open);
        restored.DrainTransitions().Single().Reason.ShouldBe(BreakerTransitionReason.ConsecutiveFailures);
    }

    [Fact]
    public void Load_HalfOpenWithProbeOut_TheSlotComesBackTaken_TheProbeStillReportsByItsTicket()
    {
        var breaker = NewBreaker();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = breaker.TryAcquire(Now);

        breaker.Load(breaker.ToState(2, Now));

        breaker.Status.ShouldBe(BreakerStatus.HalfOpen);
        breaker.TryAcquire(Now).Rejection.ShouldBe(BreakerRejection.HalfOpenBusy);
        Report(breaker, probe, BreakerOutcome.Success).ShouldBe(RecordedOutcome.Success);
        breaker.Status.ShouldBe(BreakerStatus.Closed);
    }

    [Fact]
    public void Load_AnotherBreakerSharingTheState_SeesTheProbeOut_AndHandsOutNoSecond_UntilItTimesOut()
    {
        var first = NewBreaker();
        Fail(first, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        var probe = first.TryAcquire(Now);
        probe.IsProbe.ShouldBeTrue();

        // A second node loads what the first stored: the one slot is taken, and its next ticket is a new one.
        var second = NewBreaker();
        second.Load(first.ToState(2, Now));
        second.TryAcquire(Now).Rejection.ShouldBe(BreakerRejection.HalfOpenBusy);
        second.Snapshot(Now).ProbesInFlight.ShouldBe(1);

        // The first node died with its probe: the probe timeout (the slow-call threshold, 10 s) re-opens the breaker.
        _time.Advance(TimeSpan.FromSeconds(10) + TimeSpan.FromTicks(1));
        second.TryAcquire(Now).Rejection.ShouldBe(BreakerRejection.Open);
        second.DrainTransitions().Last().Reason.ShouldBe(BreakerTransitionReason.ProbeTimedOut);
        second.ToState(3, Now).LastTicket.ShouldBe(probe.Ticket);
    }

    [Fact]
    public void Load_BreakLongerThanOptionsAllow_ClampedToMax()
    {
        var breaker = NewBreaker(new BreakerOptions { MaxBreakDuration = TimeSpan.FromMinutes(10) });
        Fail(breaker, 5);
        for (var i = 0; i < 6; i++)
        {
            _time.Advance(breaker.NextHalfOpenAt!.Value - Now);
            Report(breaker, breaker.TryAcquire(Now), BreakerOutcome.Failure);
        }

        breaker.BreakDuration.ShouldBe(TimeSpan.FromMinutes(10));
        var restored = NewBreaker();
        restored.Load(breaker.ToState(1, Now));

        restored.BreakDuration.ShouldBe(TimeSpan.FromMinutes(5));
    }

    private CircuitBreaker NewBreaker(BreakerOptions? options = null) => new("model-a", options ?? new BreakerOptions());

    private RecordedOutcome Report(CircuitBreaker breaker, BreakerPermit permit, BreakerOutcome outcome, TimeSpan? duration = null)
        => breaker.OnOutcome(permit, outcome, duration ?? Fast, Now);

    private void Fail(CircuitBreaker breaker, int calls) => Run(breaker, calls, BreakerOutcome.Failure);

    private void Succeed(CircuitBreaker breaker, int calls) => Run(breaker, calls, BreakerOutcome.Success);

    private void Run(CircuitBreaker breaker, int calls, BreakerOutcome outcome)
    {
        for (var i = 0; i < calls; i++)
        {
            var permit = breaker.TryAcquire(Now);
            permit.IsAllowed.ShouldBeTrue();
            breaker.OnOutcome(permit, outcome, Fast, Now);
        }
    }
}
