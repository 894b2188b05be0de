using System.Numerics;
using AgentGateway.Governance;
using AgentGateway.TestSupport;

namespace AgentGateway.Governance.Tests;

public sealed class RollingWindowTests
{
    private static readonly DateTimeOffset T0 = FakeTimeProvider.DefaultStart;

    [Fact]
    public void Sum_AmountsInsideWindow_AddsThemUp()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);

        window.Add(T0, 100);
        window.Add(T0.AddSeconds(5), 20);
        window.Add(T0.AddSeconds(30), 3);

        window.Sum(T0.AddSeconds(30)).ShouldBe(123);
    }

    [Fact]
    public void Sum_AmountOlderThanWindow_LeavesAtTheBucketEdge()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        window.Add(T0, 500);

        window.Sum(T0.AddSeconds(59.999)).ShouldBe(500);
        window.Sum(T0.AddSeconds(60)).ShouldBe(0);
    }

    [Fact]
    public void Sum_MidBucketAmount_LeavesBetweenWindowMinusBucketAndWindow()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        window.Add(T0.AddSeconds(5), 7);

        window.Sum(T0.AddSeconds(59.999)).ShouldBe(7);
        window.Sum(T0.AddSeconds(60)).ShouldBe(0);
    }

    [Fact]
    public void Add_SlotReusedAfterAFullTurn_OldValueDropped()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        window.Add(T0, 1_000);

        window.Add(T0.AddSeconds(60), 1);

        window.Sum(T0.AddSeconds(60)).ShouldBe(1);
    }

    [Fact]
    public void Sum_TimeGoesBackwards_FutureBucketsNotCounted()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        window.Add(T0.AddSeconds(30), 9);

        window.Sum(T0).ShouldBe(0);
        window.Sum(T0.AddSeconds(30)).ShouldBe(9);
    }

    [Fact]
    public void ExportImport_RoundTrip_SameSums()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        window.Add(T0, 4);
        window.Add(T0.AddSeconds(12), 40);
        window.Add(T0.AddSeconds(50), 400);
        var now = T0.AddSeconds(50);

        var (buckets, values) = window.Export(now);
        var copy = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        copy.Import(buckets, values);

        values.ShouldBe([4L, 40L, 400L]);
        copy.Sum(now).ShouldBe(444);
        copy.Sum(T0.AddSeconds(60)).ShouldBe(440);
        copy.Sum(T0.AddSeconds(72)).ShouldBe(400);
    }

    [Fact]
    public void Export_ExpiredBuckets_Omitted()
    {
        var window = new RollingWindow<long>(TimeSpan.FromSeconds(60), 10);
        window.Add(T0, 4);
        window.Add(T0.AddSeconds(30), 5);

        var (buckets, values) = window.Export(T0.AddSeconds(65));

        buckets.Length.ShouldBe(1);
        values.ShouldBe([5L]);
    }

    [Fact]
    public void Sum_StructBucket_ServesHealthCountsToo()
    {
        var window = new RollingWindow<Health>(TimeSpan.FromSeconds(30), 10);
        window.Add(T0, new Health(1, 0));
        window.Add(T0.AddSeconds(4), new Health(0, 1));
        window.Add(T0.AddSeconds(29), new Health(0, 1));

        window.Sum(T0.AddSeconds(29)).ShouldBe(new Health(1, 2));
        window.Sum(T0.AddSeconds(30)).ShouldBe(new Health(0, 2));
    }

    [Fact]
    public void Constructor_NoBuckets_Throws()
        => Should.Throw<ArgumentOutOfRangeException>(() => new RollingWindow<long>(TimeSpan.FromSeconds(60), 0));

    private readonly record struct Health(int Successes, int Failures)
        : IAdditionOperators<Health, Health, Health>, IAdditiveIdentity<Health, Health>
    {
        public static Health AdditiveIdentity => default;

        public static Health operator +(Health left, Health right) =>
            new(left.Successes + right.Successes, left.Failures + right.Failures);
    }
}
