using System.Collections.Concurrent;

namespace AgentGateway.Providers.Storage;

/// <summary>
/// Process memory with the durable stores' optimistic-concurrency contract: each item has a version, and a
/// write names the version it read and fails if another write came first. The embedded default for every
/// versioned state (sessions, breakers).
/// </summary>
public abstract class InMemoryVersionedStore<TState>
    where TState : class
{
    private readonly ConcurrentDictionary<string, TState> _items = new(StringComparer.Ordinal);

    public int Count => _items.Count;

    public ValueTask<TState?> ReadAsync(string key, CancellationToken cancellationToken)
        => ValueTask.FromResult(_items.TryGetValue(key, out var state) ? state : null);

    public ValueTask<bool> TryWriteAsync(TState state, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (VersionOf(state) != expectedVersion + 1)
        {
            throw new ArgumentException($"The new version must be {expectedVersion + 1} (was {VersionOf(state)}).", nameof(state));
        }

        var key = KeyOf(state);
        if (expectedVersion == 0)
        {
            return ValueTask.FromResult(_items.TryAdd(key, state));
        }

        // TryUpdate compares with the instance read; records compare by reference first, so this is a CAS.
        var written = _items.TryGetValue(key, out var current)
            && VersionOf(current) == expectedVersion
            && _items.TryUpdate(key, state, current);
        return ValueTask.FromResult(written);
    }

    /// <summary>A snapshot of every item (each one as last written), in no particular order.</summary>
    protected IEnumerable<TState> Items => _items.Values;

    protected abstract string KeyOf(TState state);

    protected abstract long VersionOf(TState state);
}
