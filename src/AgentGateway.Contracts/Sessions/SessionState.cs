namespace AgentGateway.Contracts.Sessions;

/// <summary>
/// The durable form of one session's governance state: what a store keeps, one item per session.
/// </summary>
/// <param name="SessionId">The key.</param>
/// <param name="Version">Incremented by every write; writes are conditional on the version read (optimistic concurrency).</param>
/// <param name="Status">Active, tripped or ended.</param>
/// <param name="TripReason">Why it tripped; None while active.</param>
/// <param name="TrippedAt">When it tripped.</param>
/// <param name="LoopCount">Model calls reserved for the current task.</param>
/// <param name="ModelCalls">Model calls reserved over the session's life.</param>
/// <param name="CurrentTask">Fingerprint of the human message that began the current task (0: none yet).</param>
/// <param name="RecentTasks">Fingerprints of recent tasks, newest last; a re-sent one does not start a task.</param>
/// <param name="WindowBuckets">Bucket numbers of the token window (UTC time / bucket width).</param>
/// <param name="WindowTokens">Tokens counted in each bucket, parallel to <paramref name="WindowBuckets"/>.</param>
/// <param name="UpdatedAt">Time of the last write.</param>
/// <param name="Owner">The tenant that first used the session (null: none yet); it never changes once set.</param>
/// <param name="Audit">The newest decisions and operator actions, oldest first, bounded (null: none).</param>
/// <remarks>Immutable by contract (its arrays are never changed once made), so grain calls and stores share it uncopied.</remarks>
[GenerateSerializer, Immutable]
public sealed record SessionState(
    [property: Id(0)] string SessionId,
    [property: Id(1)] long Version,
    [property: Id(2)] SessionStatus Status,
    [property: Id(3)] TripReason TripReason,
    [property: Id(4)] DateTimeOffset? TrippedAt,
    [property: Id(5)] int LoopCount,
    [property: Id(6)] long ModelCalls,
    [property: Id(7)] ulong CurrentTask,
    [property: Id(8)] ulong[] RecentTasks,
    [property: Id(9)] long[] WindowBuckets,
    [property: Id(10)] long[] WindowTokens,
    [property: Id(11)] DateTimeOffset UpdatedAt,
    [property: Id(12)] string? Owner = null,
    [property: Id(13)] SessionAuditEntry[]? Audit = null);
