using Orleans.Concurrency;

namespace AgentGateway.Contracts.Sessions;

/// <summary>
/// One agent session's governance, keyed by session id: every decision (admit a model call, grant a stream's next
/// tokens, an operator's resume or end) is one turn of its single activation, so concurrent requests on any number
/// of connections are counted exactly. Answers are results, never exceptions: a refusal, another tenant's session,
/// or a write the store refused (<see cref="Admission.Busy"/>) each come back as a value.
/// </summary>
public interface ISessionGrain : IGrainWithStringKey
{
    /// <summary>Checks and counts one model call; the decision is stored before the answer.</summary>
    Task<Admission> AdmitAsync(TurnInfo turn);

    /// <summary>
    /// Charges an admitted stream's next tokens to the velocity window: a grant, or a refusal when the chunk does not
    /// fit (the session trips with token_velocity) or an operator ended the session. Another request's trip does not
    /// cut an admitted stream off: the loop limit refuses new calls only.
    /// </summary>
    Task<TokenGrant> ChargeAsync(StreamCharge charge);

    /// <summary>Reports a call's real usage. One-way: the caller never waits for it.</summary>
    [OneWay]
    Task SettleAsync(CallSettlement settlement);

    /// <summary>The session's state (with its audit trail when <paramref name="withAudit"/>), or null when never seen.</summary>
    [ReadOnly]
    Task<SessionView?> GetAsync(bool withAudit);

    /// <summary>
    /// Makes <paramref name="tenant"/> the owner if the session has none, stored before the answer: of two tenants
    /// racing for a new id exactly one owns it.
    /// </summary>
    Task<SessionClaim> ClaimAsync(string tenant);

    /// <summary>Operator: clears a trip; the note goes to the audit trail. An ended session cannot be resumed.</summary>
    Task<SessionActionResult> ResumeAsync(string? note);

    /// <summary>Operator: ends the session for good; the note goes to the audit trail.</summary>
    Task<SessionActionResult> EndAsync(string? note);
}
