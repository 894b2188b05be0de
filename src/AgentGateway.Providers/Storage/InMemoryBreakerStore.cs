using System.Collections.Concurrent;
using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Providers.Storage;

/// <summary>
/// The embedded default breaker store: process memory with the same optimistic-concurrency contract as the
/// durable stores (a write names the version it read and fails if another write came first).
/// </summary>
public sealed class InMemoryBreakerStore : IBreakerStore
{
    private readonly ConcurrentDictionary<string, BreakerState> _items = new(StringComparer.Ordinal);

    public int Count => _items.Count;

    public ValueTask<BreakerState?> ReadAsync(string name, CancellationToken cancellationToken)
        => ValueTask.FromResult(_items.TryGetValue(name, out var state) ? state : null);

    public ValueTask<bool> TryWriteAsync(BreakerState state, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Version != expectedVersion + 1)
        {
            throw new ArgumentException($"The new version must be {expectedVersion + 1} (was {state.Version}).", nameof(state));
        }

        if (expectedVersion == 0)
        {
            return ValueTask.FromResult(_items.TryAdd(state.Name, state));
        }

        // TryUpdate compares with the instance read; records compare by reference first, so this is a CAS.
        var written = _items.TryGetValue(state.Name, out var current)
            && current.Version == expectedVersion
            && _items.TryUpdate(state.Name, state, current);
        return ValueTask.FromResult(written);
    }
}
