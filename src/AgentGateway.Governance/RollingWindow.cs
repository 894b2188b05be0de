using System.Numerics;

namespace AgentGateway.Governance;

/// <summary>
/// A sum over a sliding time window kept in a fixed ring of buckets; one type serves token velocity
/// (<c>long</c>) and, through a struct with its own <c>+</c>, health counts.
/// </summary>
/// <remarks>
/// <para>
/// Time is cut into buckets of <c>window / bucketCount</c>, numbered from the Unix epoch in UTC, so the
/// same instant falls in the same bucket on every node and a stored window means the same after a restart.
/// An amount added now lands in the current bucket; the sum covers the current bucket and the
/// <c>bucketCount - 1</c> before it. An amount therefore leaves the sum between
/// <c>window - bucketWidth</c> and <c>window</c> after it was added, never later: the approximation
/// forgets slightly early, as Polly's rolling health metrics do.
/// </para>
/// <para>Not thread-safe: it is owned by one grain, and time is passed in by the caller.</para>
/// </remarks>
public sealed class RollingWindow<T>
    where T : struct, IAdditionOperators<T, T, T>, IAdditiveIdentity<T, T>, IEquatable<T>
{
    private const long Empty = long.MinValue;
    private readonly long _bucketTicks;
    private readonly long[] _buckets;
    private readonly T[] _values;

    public RollingWindow(TimeSpan window, int bucketCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window.Ticks, bucketCount);
        Window = window;
        _bucketTicks = window.Ticks / bucketCount;
        _buckets = new long[bucketCount];
        _values = new T[bucketCount];
        Clear();
    }

    public TimeSpan Window { get; }

    public int BucketCount => _buckets.Length;

    public TimeSpan BucketWidth => TimeSpan.FromTicks(_bucketTicks);

    /// <summary>Adds <paramref name="amount"/> to the bucket that holds <paramref name="now"/>.</summary>
    public void Add(DateTimeOffset now, T amount)
    {
        var bucket = BucketOf(now);
        var slot = SlotOf(bucket);
        if (_buckets[slot] != bucket)
        {
            _buckets[slot] = bucket;
            _values[slot] = T.AdditiveIdentity;
        }

        _values[slot] += amount;
    }

    /// <summary>The sum of the buckets inside the window that ends at <paramref name="now"/>.</summary>
    public T Sum(DateTimeOffset now)
    {
        var current = BucketOf(now);
        var sum = T.AdditiveIdentity;
        for (var i = 0; i < _buckets.Length; i++)
        {
            if (IsLive(_buckets[i], current))
            {
                sum += _values[i];
            }
        }

        return sum;
    }

    public void Clear()
    {
        Array.Fill(_buckets, Empty);
        Array.Clear(_values);
    }

    /// <summary>The live, non-empty buckets at <paramref name="now"/>, oldest first, for storage.</summary>
    public (long[] Buckets, T[] Values) Export(DateTimeOffset now)
    {
        var current = BucketOf(now);
        var count = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            if (IsLive(_buckets[i], current) && !_values[i].Equals(T.AdditiveIdentity))
            {
                count++;
            }
        }

        if (count == 0)
        {
            return ([], []);
        }

        var buckets = new long[count];
        var values = new T[count];
        var n = 0;
        for (var bucket = current - _buckets.Length + 1; bucket <= current; bucket++)
        {
            var slot = SlotOf(bucket);
            if (_buckets[slot] == bucket && !_values[slot].Equals(T.AdditiveIdentity))
            {
                buckets[n] = bucket;
                values[n] = _values[slot];
                n++;
            }
        }

        return (buckets, values);
    }

    /// <summary>Replaces the content with stored buckets (as produced by <see cref="Export"/>).</summary>
    public void Import(ReadOnlySpan<long> buckets, ReadOnlySpan<T> values)
    {
        if (buckets.Length != values.Length)
        {
            throw new ArgumentException("Bucket numbers and values differ in length.", nameof(values));
        }

        Clear();
        for (var i = 0; i < buckets.Length; i++)
        {
            var slot = SlotOf(buckets[i]);
            if (_buckets[slot] == Empty || _buckets[slot] < buckets[i])
            {
                _buckets[slot] = buckets[i];
                _values[slot] = values[i];
            }
        }
    }

    private long BucketOf(DateTimeOffset now) => (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / _bucketTicks;

    private int SlotOf(long bucket) => (int)(((bucket % _buckets.Length) + _buckets.Length) % _buckets.Length);

    private bool IsLive(long bucket, long current) => bucket != Empty && bucket <= current && bucket > current - _buckets.Length;
}
