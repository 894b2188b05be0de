namespace AgentGateway.Contracts.Sessions;

/// <summary>
/// The front end's only way into session governance. The in-process actor host implements it today;
/// Orleans grains (or any other actor runtime) can implement it without touching the web layer.
/// </summary>
public interface ISessionService
{
    /// <summary>Checks and counts one model call in a single actor turn (reserving it durably).</summary>
    Task<Admission> AdmitAsync(string sessionId, TurnInfo turn, CancellationToken cancellationToken);

    /// <summary>
    /// Charges a streaming call's next tokens to the session's velocity window in one actor turn: a grant, or a
    /// refusal (the chunk does not fit: the session trips with token_velocity; or it was already tripped).
    /// </summary>
    Task<TokenGrant> ChargeAsync(string sessionId, StreamCharge charge, CancellationToken cancellationToken);

    /// <summary>Reports the call's real usage. One-way: the caller does not wait for it.</summary>
    void Settle(string sessionId, CallSettlement settlement);

    /// <summary>The session's state, or null when the session has never been seen.</summary>
    Task<SessionView?> GetAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>The session's state with its audit trail (operators), or null when the session has never been seen.</summary>
    Task<SessionView?> GetDetailAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="tenant"/> the session's owner if it has none (creating the session if needed), in one
    /// actor turn and one conditional write, so of two tenants racing for a new id exactly one owns it. True when
    /// the tenant owns the session (now or before); false when another tenant does.
    /// </summary>
    Task<bool> ClaimAsync(string sessionId, string tenant, CancellationToken cancellationToken);

    /// <summary>
    /// Clears a trip (operator action): loop count and token window start afresh; the note goes to the audit trail.
    /// An ended session cannot be resumed (<see cref="SessionActionOutcome.Ended"/>).
    /// </summary>
    Task<SessionActionResult> ResumeAsync(string sessionId, string? note, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the session (operator action): every later call is refused with <see cref="TripReason.SessionEnded"/>, for
    /// good; the note goes to the audit trail. Ending an ended session is <see cref="SessionActionOutcome.Ended"/>.
    /// </summary>
    Task<SessionActionResult> EndAsync(string sessionId, string? note, CancellationToken cancellationToken);
}
