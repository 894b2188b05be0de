namespace AgentGateway.Governance.Breakers;

/// <summary>Counts successes and failures over the sampling window; decides nothing.</summary>
internal sealed class BreakerHealthMetrics(TimeSpan samplingDuration, int buckets)
{
    private readonly RollingWindow<HealthCounts> _window = new(samplingDuration, buckets);

    public void RecordSuccess(DateTimeOffset now) => _window.Add(now, HealthCounts.OneSuccess);

    public void RecordFailure(DateTimeOffset now) => _window.Add(now, HealthCounts.OneFailure);

    public HealthCounts Counts(DateTimeOffset now) => _window.Sum(now);

    public void Clear() => _window.Clear();

    public (long[] Buckets, int[] Successes, int[] Failures) Export(DateTimeOffset now)
    {
        var (buckets, counts) = _window.Export(now);
        return (buckets, [.. counts.Select(c => c.Successes)], [.. counts.Select(c => c.Failures)]);
    }

    public void Import(long[] buckets, int[] successes, int[] failures)
    {
        if (successes.Length != buckets.Length || failures.Length != buckets.Length)
        {
            throw new ArgumentException("Window buckets, successes and failures differ in length.");
        }

        var counts = new HealthCounts[buckets.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = new HealthCounts(successes[i], failures[i]);
        }

        _window.Import(buckets, counts);
    }
}
