namespace AgentGateway.Contracts.Sessions;

/// <summary>A session tripped: reported once, by the node whose write of the trip won.</summary>
/// <param name="Tenant">The tenant that owns the session (null when unowned).</param>
/// <param name="Model">The model of the call that tripped it (null when the caller did not say).</param>
public sealed record SessionTripped(
    string SessionId, TripReason Reason, int LoopCount, long TokensInWindow, DateTimeOffset At, string? Tenant = null, string? Model = null);

/// <summary>
/// Hears of governance events as they are decided (alerts, dashboards). Called inside the session actor's turn:
/// an implementation must not block or throw — it hands the event on (e.g. to an alert actor's mailbox) and returns.
/// </summary>
public interface ISessionEventSink
{
    void Tripped(SessionTripped tripped);

    void Resumed(string sessionId, DateTimeOffset at);
}
