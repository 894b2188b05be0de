using System.Collections.Concurrent;

namespace AgentGateway.LoadGen.Metrics;

/// <summary>Counts by name (close codes, error kinds, finish reasons), safe from any thread.</summary>
internal sealed class Tally
{
    private readonly ConcurrentDictionary<string, StrongBox> _counts = new(StringComparer.Ordinal);

    public void Add(string name, long amount = 1)
        => Interlocked.Add(ref _counts.GetOrAdd(name, static _ => new StrongBox()).Value, amount);

    public long this[string name] => _counts.TryGetValue(name, out var box) ? Volatile.Read(ref box.Value) : 0;

    public long Total => _counts.Values.Sum(static b => Volatile.Read(ref b.Value));

    public SortedDictionary<string, long> Snapshot()
        => new(_counts.ToDictionary(static p => p.Key, static p => Volatile.Read(ref p.Value.Value)), StringComparer.Ordinal);

    private sealed class StrongBox
    {
#pragma warning disable SA1401, CA1051 // a field, so Interlocked can take it by reference
        public long Value;
#pragma warning restore SA1401, CA1051
    }
}
