namespace AgentGateway.Contracts.Sessions;

/// <summary>One page of sessions, ordered by session id (ordinal); <paramref name="NextCursor"/> is null on the last page.</summary>
public sealed record SessionPage(IReadOnlyList<SessionState> Items, string? NextCursor);

/// <summary>
/// Lists stored sessions for operators: filtered by status, in pages, ordered by session id. Kept apart from
/// <see cref="ISessionStore"/> (which the grains' storage uses) and narrow, so a DynamoDB store can answer it with a global
/// secondary index on status (sort key: session id) or a filtered scan, its cursor standing for the last key.
/// </summary>
public interface ISessionCatalog
{
    /// <param name="status">Only sessions in this status; null: all.</param>
    /// <param name="limit">At most this many (1 or more).</param>
    /// <param name="after">Only sessions whose id sorts after this one (ordinal); null: from the start.</param>
    ValueTask<SessionPage> ListAsync(SessionStatus? status, int limit, string? after, CancellationToken cancellationToken);
}

/// <summary>How an operator action on a session ended.</summary>
public enum SessionActionOutcome
{
    Done = 0,

    /// <summary>No such session.</summary>
    NotFound = 1,

    /// <summary>The session is ended: it cannot be resumed or ended again.</summary>
    Ended = 2,

    /// <summary>The store refused the write (another writer moved the session on); nothing changed: retry.</summary>
    Busy = 3,
}

/// <summary>The answer to <see cref="ISessionGrain.ClaimAsync"/>.</summary>
public enum SessionClaim
{
    /// <summary>The tenant owns the session (it did before, or it does now).</summary>
    Owned = 0,

    /// <summary>Another tenant owns the session.</summary>
    Forbidden = 1,

    /// <summary>The store refused the write of the claim; nothing changed: retry.</summary>
    Busy = 2,
}

/// <summary>The answer to an operator action: the outcome and, unless not found, the session as it now is.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionActionResult([property: Id(0)] SessionActionOutcome Outcome, [property: Id(1)] SessionView? View);
