namespace AgentGateway.Contracts.Sessions;

/// <summary>What an audit entry records: a model call governance decided on, or an operator's action.</summary>
public enum SessionAuditKind : byte
{
    /// <summary>A call whose last message was the human's.</summary>
    UserMessage = 0,

    /// <summary>A call that continues the task (a tool result, a re-sent history).</summary>
    Continuation = 1,

    /// <summary>A streamed answer whose next chunk did not fit in the budget (the live cut-off).</summary>
    Stream = 2,

    /// <summary>An operator's resume or end.</summary>
    Operator = 3,
}

/// <summary>The decision an audit entry records.</summary>
public enum SessionAuditDecision : byte
{
    Admitted = 0,

    /// <summary>Refused, and the session tripped with it (refusals of an already tripped session write nothing).</summary>
    Refused = 1,

    Resumed = 2,

    Ended = 3,
}

/// <summary>
/// One line of a session's audit trail, kept in its <see cref="SessionState"/> (the newest
/// <c>Governance:AuditEntries</c>, oldest dropped first) and written with the decision it records, in the same
/// conditional write, so the trail can never disagree with the counters.
/// </summary>
/// <remarks>32 bytes: <see cref="At"/> is a UTC <see cref="DateTime"/> (8 bytes) rather than a DateTimeOffset (16).</remarks>
/// <param name="At">When it was decided (UTC).</param>
/// <param name="Kind">What was decided on.</param>
/// <param name="Decision">What was decided.</param>
/// <param name="TripReason">Why a call was refused (None otherwise; for an end, the trip it ended, if any).</param>
/// <param name="LoopCount">The task's loop count after the decision.</param>
/// <param name="TokensInWindow">Tokens in the velocity window after the decision.</param>
/// <param name="Note">The operator's note (operator actions only).</param>
[GenerateSerializer]
public readonly record struct SessionAuditEntry(
    [property: Id(0)] DateTime At,
    [property: Id(1)] SessionAuditKind Kind,
    [property: Id(2)] SessionAuditDecision Decision,
    [property: Id(3)] TripReason TripReason,
    [property: Id(4)] int LoopCount,
    [property: Id(5)] long TokensInWindow,
    [property: Id(6)] string? Note = null);

public static class SessionAuditNames
{
    public static string ToWireName(this SessionAuditKind kind) => kind switch
    {
        SessionAuditKind.UserMessage => "user_message",
        SessionAuditKind.Continuation => "continuation",
        SessionAuditKind.Stream => "stream",
        _ => "operator",
    };

    public static string ToWireName(this SessionAuditDecision decision) => decision switch
    {
        SessionAuditDecision.Admitted => "admitted",
        SessionAuditDecision.Refused => "refused",
        SessionAuditDecision.Resumed => "resumed",
        _ => "ended",
    };
}

/// <summary>An audit entry as the admin API shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionAuditView(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Decision,
    [property: Id(3)] string? TripReason,
    [property: Id(4)] int LoopCount,
    [property: Id(5)] long TokensInWindow,
    [property: Id(6)] string? Note)
{
    public static SessionAuditView Of(in SessionAuditEntry entry) => new(
        new DateTimeOffset(DateTime.SpecifyKind(entry.At, DateTimeKind.Utc)),
        entry.Kind.ToWireName(),
        entry.Decision.ToWireName(),
        entry.TripReason.ToWireName(),
        entry.LoopCount,
        entry.TokensInWindow,
        entry.Note);
}
