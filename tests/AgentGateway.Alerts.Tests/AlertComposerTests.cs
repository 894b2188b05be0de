using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance.Breakers;
using AgentGateway.TestSupport;

namespace AgentGateway.Alerts.Tests;

public sealed class AlertComposerTests
{
    private static readonly DateTimeOffset At = FakeTimeProvider.DefaultStart;
    private readonly AlertComposer _composer = new("node-a:42");

    [Fact]
    public void SessionTripped_LoopLimit_CriticalTextAndStructuredBody()
    {
        var alert = _composer.SessionTripped(new SessionTripped("s-1", TripReason.LoopLimit, 5, 120, At));

        alert.Text.ShouldBe("CRITICAL: Session ID [s-1] terminated due to loop limit");
        alert.Kind.ShouldBe(AlertKinds.SessionTripped);
        alert.Severity.ShouldBe("critical");
        alert.Key.ShouldBe("session:s-1");
        alert.Body.ShouldBe(new AlertBody("s-1", null, "loop_limit", 5, 120, null, null, "node-a:42", At));
        alert.MessageId.ShouldMatch("^[0-9a-f]{32}$");
    }

    [Fact]
    public void SessionTripped_TokenVelocity_RunawayTokenVelocityText()
    {
        var alert = _composer.SessionTripped(new SessionTripped("s-2", TripReason.TokenVelocity, 2, 10_400, At));

        alert.Text.ShouldBe("CRITICAL: Session ID [s-2] terminated due to runaway token velocity");
        alert.Body.Reason.ShouldBe("token_velocity");
        alert.Body.TokensInWindow.ShouldBe(10_400);
    }

    [Fact]
    public void SessionTripped_SameTripOnAnotherNodeOrAfterRestart_SameMessageId_OtherTripOtherId()
    {
        var trip = new SessionTripped("s-3", TripReason.LoopLimit, 5, 100, At);

        var first = _composer.SessionTripped(trip);
        var again = new AlertComposer("node-b:7").SessionTripped(trip);
        var later = _composer.SessionTripped(trip with { At = At.AddTicks(1) });

        again.MessageId.ShouldBe(first.MessageId);
        later.MessageId.ShouldNotBe(first.MessageId);
    }

    [Fact]
    public void BreakerTransition_OpenIsolatedClosed_TheirOwnText_HalfOpenNoAlert()
    {
        var opened = _composer.BreakerTransition("haiku", new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, At))!;
        var isolated = _composer.BreakerTransition("haiku", new BreakerTransition(BreakerStatus.Closed, BreakerStatus.Isolated, BreakerTransitionReason.Isolated, At))!;
        var closed = _composer.BreakerTransition("haiku", new BreakerTransition(BreakerStatus.HalfOpen, BreakerStatus.Closed, BreakerTransitionReason.ProbeSucceeded, At))!;
        var halfOpen = _composer.BreakerTransition("haiku", new BreakerTransition(BreakerStatus.Open, BreakerStatus.HalfOpen, BreakerTransitionReason.BreakElapsed, At));

        opened.Text.ShouldBe("CRITICAL: Circuit breaker for model [haiku] opened (consecutive_failures): calls go to the fallback chain");
        opened.Kind.ShouldBe(AlertKinds.BreakerOpened);
        opened.Key.ShouldBe("breaker:haiku");
        opened.Body.ShouldBe(new AlertBody(null, null, "consecutive_failures", null, null, "haiku", "open", "node-a:42", At));
        isolated.Text.ShouldBe("CRITICAL: Circuit breaker for model [haiku] isolated by an operator: calls go to the fallback chain");
        closed.Text.ShouldBe("RESOLVED: Circuit breaker for model [haiku] closed (probe_succeeded): calls flow again");
        closed.Severity.ShouldBe("resolved");
        halfOpen.ShouldBeNull();
    }

    [Fact]
    public void SessionTripped_LongSessionId_SubjectAsciiAtMost100Characters()
    {
        var alert = _composer.SessionTripped(new SessionTripped(new string('x', 128), TripReason.LoopLimit, 5, 1, At));

        alert.Subject.Length.ShouldBe(100);
        alert.Subject.ShouldStartWith("CRITICAL: session xxx");
    }
}
