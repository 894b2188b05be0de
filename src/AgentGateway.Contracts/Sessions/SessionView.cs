namespace AgentGateway.Contracts.Sessions;

/// <summary>A session's governance state as operators see it (the admin API's JSON).</summary>
public sealed record SessionView(
    string SessionId,
    string Status,
    string? TripReason,
    DateTimeOffset? TrippedAt,
    int LoopCount,
    int MaxLoops,
    long ModelCalls,
    long TokensInWindow,
    long TokenBudget,
    int WindowSeconds,
    long Version,
    DateTimeOffset? UpdatedAt);
