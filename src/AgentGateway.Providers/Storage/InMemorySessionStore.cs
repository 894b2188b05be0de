using System.Collections.Concurrent;
using AgentGateway.Contracts.Sessions;

namespace AgentGateway.Providers.Storage;

/// <summary>
/// The embedded default session store: process memory with the same optimistic-concurrency contract as
/// the durable stores (a write names the version it read and fails if another write came first).
/// </summary>
public sealed class InMemorySessionStore : ISessionStore
{
    private readonly ConcurrentDictionary<string, SessionState> _items = new(StringComparer.Ordinal);

    public int Count => _items.Count;

    public ValueTask<SessionState?> ReadAsync(string sessionId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_items.TryGetValue(sessionId, out var state) ? state : null);

    public ValueTask<bool> TryWriteAsync(SessionState state, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Version != expectedVersion + 1)
        {
            throw new ArgumentException($"The new version must be {expectedVersion + 1} (was {state.Version}).", nameof(state));
        }

        if (expectedVersion == 0)
        {
            return ValueTask.FromResult(_items.TryAdd(state.SessionId, state));
        }

        // TryUpdate compares with the instance read; records compare by reference first, so this is a CAS.
        var written = _items.TryGetValue(state.SessionId, out var current)
            && current.Version == expectedVersion
            && _items.TryUpdate(state.SessionId, state, current);
        return ValueTask.FromResult(written);
    }
}
