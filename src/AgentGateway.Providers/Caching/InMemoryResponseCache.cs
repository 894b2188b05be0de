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

    public int Count => _entries.Count;

    public ValueTask<CachedAnswer?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var answer))
        {
            if (time.GetUtcNow() - answer.StoredAt < timeToLive)
            {
                return ValueTask.FromResult<CachedAnswer?>(answer);
            }

            _entries.TryRemove(new KeyValuePair<string, CachedAnswer>(key, answer));
        }

        return ValueTask.FromResult<CachedAnswer?>(null);
    }

    public ValueTask SetAsync(string key, CachedAnswer answer, CancellationToken cancellationToken)
    {
        if (_entries.TryAdd(key, answer))
        {
            _order.Enqueue(key);
            while (_entries.Count > maxEntries && _order.TryDequeue(out var oldest))
            {
                _entries.TryRemove(oldest, out _);
            }
        }
        else
        {
            _entries[key] = answer;
        }

        return ValueTask.CompletedTask;
    }
}
