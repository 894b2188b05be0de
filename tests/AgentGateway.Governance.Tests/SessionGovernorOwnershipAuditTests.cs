using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.TestSupport;

namespace AgentGateway.Governance.Tests;

/// <summary>Tenant ownership, the audit trail and the end of a session, in the governor alone (fake time).</summary>
public sealed class SessionGovernorOwnershipAuditTests
{
    private static readonly ulong TaskA = TaskFingerprint.Compute(1, "find the bug [[sim:loop]]");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryAdmit_FirstTenant_ClaimsTheSessionAndOtherTenantIsForbiddenWithNothingCounted()
    {
        var governor = NewGovernor();

        var first = governor.TryAdmit(User(TaskA, "acme"), Now);
        var other = governor.TryAdmit(Continue(TaskA, "globex"), Now);
        var anonymous = governor.TryAdmit(Continue(TaskA, null), Now);

        first.Allowed.ShouldBeTrue();
        governor.Owner.ShouldBe("acme");
        other.ShouldBe(new Admission(false, TripReason.None, false, 0, 0, Forbidden: true));
        anonymous.Forbidden.ShouldBeTrue();
        governor.LoopCount.ShouldBe(1);
        governor.ModelCalls.ShouldBe(1);
        governor.Audit.Length.ShouldBe(1);
    }

    [Fact]
    public void TryAdmit_TrippedSessionOfOtherTenant_ForbiddenNotTheTripReason()
    {
        var governor = NewGovernor();
        RunAway(governor, "acme");

        var other = governor.TryAdmit(Continue(TaskA, "globex"), Now);

        other.Forbidden.ShouldBeTrue();
        other.TripReason.ShouldBe(TripReason.None);
    }

    [Fact]
    public void Claim_UnownedOwnedOther_ClaimedOwnedForbidden()
    {
        var governor = NewGovernor();

        governor.Claim(null).ShouldBe(ClaimResult.Owned);
        governor.Owner.ShouldBeNull();
        governor.Claim("acme").ShouldBe(ClaimResult.Claimed);
        governor.Claim("acme").ShouldBe(ClaimResult.Owned);
        governor.Claim("globex").ShouldBe(ClaimResult.Forbidden);
        governor.Claim("ACME").ShouldBe(ClaimResult.Forbidden);
        governor.Claim(null).ShouldBe(ClaimResult.Forbidden);
    }

    [Fact]
    public void Audit_ScriptedRunaway_FiveAdmittedOneRefusedThenResumedWithTheNote()
    {
        var governor = NewGovernor();
        var start = Now;

        RunAway(governor, "acme");
        _time.Advance(TimeSpan.FromSeconds(30));
        governor.Resume("looked at the logs: the lookup tool was down", Now);

        var at = start.UtcDateTime;
        governor.Audit.ToArray().ShouldBe(
        [
            new SessionAuditEntry(at, SessionAuditKind.UserMessage, SessionAuditDecision.Admitted, TripReason.None, 1, 10),
            new SessionAuditEntry(at, SessionAuditKind.Continuation, SessionAuditDecision.Admitted, TripReason.None, 2, 20),
            new SessionAuditEntry(at, SessionAuditKind.Continuation, SessionAuditDecision.Admitted, TripReason.None, 3, 30),
            new SessionAuditEntry(at, SessionAuditKind.Continuation, SessionAuditDecision.Admitted, TripReason.None, 4, 40),
            new SessionAuditEntry(at, SessionAuditKind.Continuation, SessionAuditDecision.Admitted, TripReason.None, 5, 50),
            new SessionAuditEntry(at, SessionAuditKind.Continuation, SessionAuditDecision.Refused, TripReason.LoopLimit, 5, 50),
            new SessionAuditEntry(
                at.AddSeconds(30), SessionAuditKind.Operator, SessionAuditDecision.Resumed, TripReason.None, 0, 0, "looked at the logs: the lookup tool was down"),
        ]);
    }

    [Fact]
    public void TryAdmit_AlreadyTripped_RefusalAddsNoEntry()
    {
        var governor = NewGovernor();
        RunAway(governor, "acme");

        governor.TryAdmit(Continue(TaskA, "acme"), Now).TripReason.ShouldBe(TripReason.LoopLimit);

        governor.Audit.Length.ShouldBe(6);
    }

    [Fact]
    public void Audit_MoreEntriesThanTheBound_KeepsTheNewestInOrder()
    {
        var governor = NewGovernor(new GovernanceOptions { AuditEntries = 3, MaxLoops = 100 });

        for (var i = 1; i <= 7; i++)
        {
            governor.TryAdmit(i == 1 ? User(TaskA, "acme") : Continue(TaskA, "acme"), Now);
        }

        governor.Audit.ToArray().Select(e => e.LoopCount).ShouldBe([5, 6, 7]);
    }

    [Fact]
    public void Audit_BoundZero_KeepsNothingAndStoresNull()
    {
        var governor = NewGovernor(new GovernanceOptions { AuditEntries = 0 });

        governor.TryAdmit(User(TaskA, "acme"), Now);

        governor.Audit.Length.ShouldBe(0);
        governor.ToState(1, Now).Audit.ShouldBeNull();
    }

    [Fact]
    public void TryCharge_CutOff_AuditsAStreamRefusal()
    {
        var governor = NewGovernor(new GovernanceOptions { TokenBudget = 100 });
        governor.TryAdmit(User(TaskA, "acme", inputTokens: 10), Now);

        governor.TryCharge(new StreamCharge(200, 256), Now).NewlyTripped.ShouldBeTrue();

        governor.Audit[^1].ShouldBe(new SessionAuditEntry(Now.UtcDateTime, SessionAuditKind.Stream, SessionAuditDecision.Refused, TripReason.TokenVelocity, 1, 210));
    }

    [Fact]
    public void End_TrippedSession_EveryCallAndChargeRefusedWithSessionEndedAndResumeRefused()
    {
        var governor = NewGovernor();
        RunAway(governor, "acme");

        governor.End("runaway: closing the task", Now).ShouldBeTrue();
        var user = governor.TryAdmit(User(TaskFingerprint.Compute(2, "a new task"), "acme"), Now);
        var charge = governor.TryCharge(new StreamCharge(1, 1), Now);

        governor.Status.ShouldBe(SessionStatus.Ended);
        governor.TripReason.ShouldBe(TripReason.LoopLimit);
        user.ShouldBe(Admission.Refused(TripReason.SessionEnded, newlyTripped: false, 5));
        charge.ShouldBe(new TokenGrant(false, 0, TripReason.SessionEnded, false, 0));
        governor.Resume("try again", Now).ShouldBeFalse();
        governor.End("again", Now).ShouldBeFalse();
        governor.Status.ShouldBe(SessionStatus.Ended);
        governor.Audit[^1].ShouldBe(
            new SessionAuditEntry(Now.UtcDateTime, SessionAuditKind.Operator, SessionAuditDecision.Ended, TripReason.LoopLimit, 5, 50, "runaway: closing the task"));
        governor.ToView(9, Now, Now).Status.ShouldBe("ended");
    }

    [Fact]
    public void ToStateLoad_OwnerAndAudit_RoundTripSharingTheTrail()
    {
        var governor = NewGovernor();
        RunAway(governor, "acme");
        governor.End("done", Now);

        var state = governor.ToState(8, Now);
        var reloaded = NewGovernor();
        reloaded.Load(state);

        state.Owner.ShouldBe("acme");
        state.Status.ShouldBe(SessionStatus.Ended);
        reloaded.Owner.ShouldBe("acme");
        reloaded.Status.ShouldBe(SessionStatus.Ended);
        reloaded.Audit.ToArray().ShouldBe(governor.Audit.ToArray());
        reloaded.ToState(9, Now).Audit.ShouldBeSameAs(state.Audit);
        var view = SessionGovernor.ViewOf(state, new GovernanceOptions(), Now);
        view.Tenant.ShouldBe("acme");
        view.Audit.ShouldBeNull();
        reloaded.ToView(8, Now, Now, withAudit: true).Audit!.Select(a => a.Decision).ShouldBe(
            ["admitted", "admitted", "admitted", "admitted", "admitted", "refused", "ended"]);
    }

    /// <summary>Five admitted calls of 10 tokens in one task, then the sixth refused with the loop limit.</summary>
    private void RunAway(SessionGovernor governor, string tenant)
    {
        for (var i = 0; i < 5; i++)
        {
            governor.TryAdmit(i == 0 ? User(TaskA, tenant) : Continue(TaskA, tenant), Now).Allowed.ShouldBeTrue();
        }

        governor.TryAdmit(Continue(TaskA, tenant), Now).NewlyTripped.ShouldBeTrue();
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private static SessionGovernor NewGovernor(GovernanceOptions? options = null) => new("s1", options ?? new GovernanceOptions());

    private static TurnInfo User(ulong task, string? tenant, int inputTokens = 10) => new(TurnKind.UserMessage, task, inputTokens, tenant);

    private static TurnInfo Continue(ulong task, string? tenant, int inputTokens = 10) => new(TurnKind.Continuation, task, inputTokens, tenant);
}
