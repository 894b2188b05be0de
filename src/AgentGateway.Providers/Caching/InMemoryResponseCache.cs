using System.Collections.Concurrent;
using AgentGateway.Contracts.Caching;

namespace AgentGateway.Providers.Caching;

/// <summary>
/// The embedded default answer cache: bounded (the oldest entries leave first) and with a time to live, so a
/// long-running node's memory stays bounded.
/// </summary>
public sealed class InMemoryResponseCache(int maxEntries, TimeSpan timeToLive, TimeProvider time) : IResponseCache
{
    private readonly ConcurrentDictionary<string, CachedAnswer> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private int _count;

    /// <summary>Entries held (kept by hand: <see cref="ConcurrentDictionary{TKey,TValue}.Count"/> takes every lock).</summary>
    public int Count => Volatile.Read(ref _count);

    public ValueTask<CachedAnswer?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var answer))
        {
            if (time.GetUtcNow() - answer.StoredAt < timeToLive)
            {
                return ValueTask.FromResult<CachedAnswer?>(answer);
            }

            if (_entries.TryRemove(new KeyValuePair<string, CachedAnswer>(key, answer)))
            {
                Interlocked.Decrement(ref _count);
            }
        }

        return ValueTask.FromResult<CachedAnswer?>(null);
    }

    public ValueTask SetAsync(string key, CachedAnswer answer, CancellationToken cancellationToken)
    {
        if (_entries.TryAdd(key, answer))
        {
            Interlocked.Increment(ref _count);
            _order.Enqueue(key);
            while (Volatile.Read(ref _count) > maxEntries && _order.TryDequeue(out var oldest))
            {
                if (_entries.TryRemove(oldest, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }
        }
        else
        {
            _entries[key] = answer;
        }

        return ValueTask.CompletedTask;
    }
}
