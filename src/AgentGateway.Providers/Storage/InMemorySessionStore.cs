using AgentGateway.Contracts.Sessions;

namespace AgentGateway.Providers.Storage;

/// <summary>The embedded default session store (see <see cref="InMemoryVersionedStore{TState}"/>), listable by status.</summary>
public sealed class InMemorySessionStore : InMemoryVersionedStore<SessionState>, ISessionStore, ISessionCatalog
{
    /// <remarks>
    /// Filters and sorts every stored session per page (O(n log n)): meant for operators' queries on one node's
    /// memory, not for a hot path. A session written between two pages appears in the later one only if its id sorts
    /// after the cursor; each page is consistent with itself.
    /// </remarks>
    public ValueTask<SessionPage> ListAsync(SessionStatus? status, int limit, string? after, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var matching = Items
            .Where(s => (status is null || s.Status == status) && (after is null || string.CompareOrdinal(s.SessionId, after) > 0))
            .OrderBy(s => s.SessionId, StringComparer.Ordinal)
            .Take(limit + 1)
            .ToList();
        var more = matching.Count > limit;
        if (more)
        {
            matching.RemoveAt(limit);
        }

        return ValueTask.FromResult(new SessionPage(matching, more ? matching[^1].SessionId : null));
    }

    protected override string KeyOf(SessionState state) => state.SessionId;

    protected override long VersionOf(SessionState state) => state.Version;
}
