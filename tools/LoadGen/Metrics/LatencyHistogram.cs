namespace AgentGateway.LoadGen.Metrics;

/// <summary>
/// A lock-free latency histogram in microseconds: exact below 32 µs, then 16 linear buckets per power of two
/// (relative error under 1/32), so percentiles of millions of samples cost a few kilobytes and no allocation.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int Exact = 32;
    private const int SubBuckets = 16;
    private const int MaxMagnitude = 42; // 2^42 µs ≈ 51 days
    private readonly long[] _counts = new long[Exact + ((MaxMagnitude - 5) * SubBuckets)];
    private long _count;
    private long _sumMicros;
    private long _maxMicros;

    public long Count => Volatile.Read(ref _count);

    public void Record(TimeSpan elapsed) => RecordMicros((long)elapsed.TotalMicroseconds);

    public void RecordMicros(long micros)
    {
        micros = Math.Max(0, micros);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, micros);
        long max;
        while (micros > (max = Volatile.Read(ref _maxMicros)) && Interlocked.CompareExchange(ref _maxMicros, micros, max) != max)
        {
        }
    }

    /// <summary>Count, mean and percentiles (in milliseconds) of what was recorded so far.</summary>
    public LatencySummary Summarize()
    {
        var counts = new long[_counts.Length];
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _counts[i]);
            total += counts[i];
        }

        if (total == 0)
        {
            return new LatencySummary(0, null, null, null, null, null, null);
        }

        // A bucket's midpoint may lie above the largest value recorded: percentiles never exceed the max.
        var max = Math.Round(Volatile.Read(ref _maxMicros) / 1000.0, 3);
        return new LatencySummary(
            total,
            Math.Round(Volatile.Read(ref _sumMicros) / (double)total / 1000, 3),
            Math.Min(max, Percentile(counts, total, 0.50)),
            Math.Min(max, Percentile(counts, total, 0.90)),
            Math.Min(max, Percentile(counts, total, 0.99)),
            Math.Min(max, Percentile(counts, total, 0.999)),
            max);
    }

    private static double Percentile(long[] counts, long total, double quantile)
    {
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return Math.Round(MidpointOf(i) / 1000.0, 3);
            }
        }

        return Math.Round(MidpointOf(counts.Length - 1) / 1000.0, 3);
    }

    private static int IndexOf(long micros)
    {
        if (micros < Exact)
        {
            return (int)micros;
        }

        var magnitude = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)micros); // 5 or more
        if (magnitude >= MaxMagnitude)
        {
            return Exact + ((MaxMagnitude - 5) * SubBuckets) - 1;
        }

        var mantissa = (int)((micros >> (magnitude - 4)) & (SubBuckets - 1));
        return Exact + ((magnitude - 5) * SubBuckets) + mantissa;
    }

    private static double MidpointOf(int index)
    {
        if (index < Exact)
        {
            return index;
        }

        var magnitude = ((index - Exact) / SubBuckets) + 5;
        var mantissa = (index - Exact) % SubBuckets;
        var width = 1L << (magnitude - 4);
        var lower = (SubBuckets + mantissa) * width;
        return lower + ((width - 1) / 2.0);
    }
}

/// <summary>A latency distribution in milliseconds (null when nothing was recorded).</summary>
internal sealed record LatencySummary(long Count, double? MeanMs, double? P50Ms, double? P90Ms, double? P99Ms, double? P999Ms, double? MaxMs);
