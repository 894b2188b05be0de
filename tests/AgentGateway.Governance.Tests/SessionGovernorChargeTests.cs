using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.TestSupport;

namespace AgentGateway.Governance.Tests;

/// <summary>The live cut-off's rule: a streaming call pays for its chunks in grants, and the chunk that does not fit trips the session.</summary>
public sealed class SessionGovernorChargeTests
{
    private static readonly ulong Task = TaskFingerprint.Compute(1, "write a long essay");
    private readonly FakeTimeProvider _time = new();
    private readonly SessionGovernor _governor = new("session-1", new GovernanceOptions { TokenBudget = 1_000 });

    private DateTimeOffset Now => _time.GetUtcNow();

    [Fact]
    public void TryCharge_BudgetLeft_GrantsWhatIsWantedAndChargesIt()
    {
        _governor.TryAdmit(new TurnInfo(TurnKind.UserMessage, Task, 100), Now);

        var grant = _governor.TryCharge(new StreamCharge(2, 256), Now);

        grant.ShouldBe(new TokenGrant(true, 256, TripReason.None, false, 256));
        _governor.TokensInWindow(Now).ShouldBe(356);
        _governor.Status.ShouldBe(SessionStatus.Active);
    }

    [Fact]
    public void TryCharge_LessLeftThanWanted_GrantsTheRest()
    {
        _governor.TryAdmit(new TurnInfo(TurnKind.UserMessage, Task, 900), Now);

        var grant = _governor.TryCharge(new StreamCharge(2, 256), Now);

        grant.ShouldBe(new TokenGrant(true, 100, TripReason.None, false, 100));
        _governor.TokensInWindow(Now).ShouldBe(1_000);
    }

    [Fact]
    public void TryCharge_ChunkDoesNotFit_TripsWithTokenVelocityAndChargesTheChunk()
    {
        _governor.TryAdmit(new TurnInfo(TurnKind.UserMessage, Task, 999), Now);

        var refused = _governor.TryCharge(new StreamCharge(2, 256), Now);

        refused.ShouldBe(new TokenGrant(false, 0, TripReason.TokenVelocity, true, 2));
        _governor.Status.ShouldBe(SessionStatus.Tripped);
        _governor.TripReason.ShouldBe(TripReason.TokenVelocity);
        _governor.TrippedAt.ShouldBe(Now);
        _governor.TokensInWindow(Now).ShouldBe(1_001);
    }

    [Fact]
    public void TryCharge_TrippedByAnotherRequestsLoopLimit_TheAdmittedStreamKeepsGettingGrants()
    {
        // The stream is admitted as the fifth call; a sixth request then trips the session with the loop limit.
        for (var i = 0; i < 6; i++)
        {
            _governor.TryAdmit(new TurnInfo(i == 0 ? TurnKind.UserMessage : TurnKind.Continuation, Task, 1), Now);
        }

        var grant = _governor.TryCharge(new StreamCharge(1, 256), Now);

        grant.ShouldBe(new TokenGrant(true, 256, TripReason.None, false, 256));
        _governor.Status.ShouldBe(SessionStatus.Tripped);
        _governor.TripReason.ShouldBe(TripReason.LoopLimit);
        _governor.TokensInWindow(Now).ShouldBe(261);
    }

    [Fact]
    public void TryCharge_TrippedByAnotherRequestAndTheChunkDoesNotFit_CutOffWithTokenVelocityKeepingTheFirstTrip()
    {
        for (var i = 0; i < 6; i++)
        {
            _governor.TryAdmit(new TurnInfo(i == 0 ? TurnKind.UserMessage : TurnKind.Continuation, Task, 190), Now);
        }

        var refused = _governor.TryCharge(new StreamCharge(51, 256), Now);

        refused.ShouldBe(new TokenGrant(false, 0, TripReason.TokenVelocity, false, 51));
        _governor.Status.ShouldBe(SessionStatus.Tripped);
        _governor.TripReason.ShouldBe(TripReason.LoopLimit);
        _governor.TokensInWindow(Now).ShouldBe(1_001);
        _governor.Audit[^1].ShouldBe(new SessionAuditEntry(Now.UtcDateTime, SessionAuditKind.Stream, SessionAuditDecision.Refused, TripReason.TokenVelocity, 5, 1_001));
    }

    [Fact]
    public void Settle_AfterGrants_WindowHoldsTheRealUsage()
    {
        var admission = _governor.TryAdmit(new TurnInfo(TurnKind.UserMessage, Task, 10), Now);
        var first = _governor.TryCharge(new StreamCharge(1, 256), Now);
        var second = _governor.TryCharge(new StreamCharge(1, 256), Now);

        _governor.Settle(new CallSettlement(admission.ReservedInputTokens + first.Charged + second.Charged, 12, 300), Now);

        _governor.TokensInWindow(Now).ShouldBe(312);
    }

    [Fact]
    public void TryCharge_WindowMovesOn_BudgetComesBack()
    {
        _governor.TryAdmit(new TurnInfo(TurnKind.UserMessage, Task, 1_000), Now);
        _governor.TryCharge(new StreamCharge(1, 1), Now).Allowed.ShouldBeFalse();
        _governor.Resume(null, Now);
        _governor.TryAdmit(new TurnInfo(TurnKind.UserMessage, TaskFingerprint.Compute(2, "again"), 1_000), Now);

        _time.Advance(TimeSpan.FromSeconds(60));
        var grant = _governor.TryCharge(new StreamCharge(1, 256), Now);

        grant.ShouldBe(new TokenGrant(true, 256, TripReason.None, false, 256));
    }
}
