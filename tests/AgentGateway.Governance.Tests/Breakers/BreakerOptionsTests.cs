using System.ComponentModel.DataAnnotations;
using AgentGateway.Governance.Breakers;

namespace AgentGateway.Governance.Tests.Breakers;

public sealed class BreakerOptionsTests
{
    [Fact]
    public void Defaults_AsTheIssueStates_AndValid()
    {
        var options = new BreakerOptions();

        options.FailureRatio.ShouldBe(0.5);
        options.SamplingDuration.ShouldBe(TimeSpan.FromSeconds(30));
        options.SamplingBuckets.ShouldBe(10);
        options.MinimumThroughput.ShouldBe(10);
        options.ConsecutiveFailureThreshold.ShouldBe(5);
        options.SlowCallThreshold.ShouldBe(TimeSpan.FromSeconds(10));
        options.BreakDuration.ShouldBe(TimeSpan.FromSeconds(30));
        options.MaxBreakDuration.ShouldBe(TimeSpan.FromMinutes(5));
        options.HalfOpenMaxProbes.ShouldBe(1);
        options.ProbeTimeout.ShouldBeNull();
        options.EffectiveProbeTimeout.ShouldBe(TimeSpan.FromSeconds(10));
        options.ReportInterval.ShouldBe(TimeSpan.FromMilliseconds(100));
        Validate(options).ShouldBeEmpty();
    }

    [Fact]
    public void Validate_EverySettingWrong_ReportsEveryError()
    {
        var options = new BreakerOptions
        {
            FailureRatio = 0,
            SamplingDuration = TimeSpan.FromMilliseconds(500),
            SamplingBuckets = 0,
            MinimumThroughput = 1,
            ConsecutiveFailureThreshold = 0,
            SlowCallThreshold = TimeSpan.Zero,
            BreakDuration = TimeSpan.FromDays(2),
            MaxBreakDuration = TimeSpan.FromSeconds(10),
            HalfOpenMaxProbes = 0,
            ProbeTimeout = TimeSpan.FromSeconds(-1),
            ReportInterval = TimeSpan.Zero,
        };

        var errors = Validate(options);

        errors.Select(e => e.MemberNames.Single()).ShouldBe(
        [
            "FailureRatio", "SamplingDuration", "SamplingBuckets", "MinimumThroughput", "ConsecutiveFailureThreshold",
            "SlowCallThreshold", "BreakDuration", "MaxBreakDuration", "HalfOpenMaxProbes", "ProbeTimeout", "ReportInterval",
        ]);
        errors.ShouldAllBe(e => e.ErrorMessage!.StartsWith("Breakers:", StringComparison.Ordinal));
        errors[0].ErrorMessage.ShouldBe("Breakers:FailureRatio must be above 0 and at most 1 (was 0).");
    }

    [Theory]
    [InlineData(1.0, true)]
    [InlineData(0.01, true)]
    [InlineData(1.01, false)]
    [InlineData(double.NaN, false)]
    public void Validate_FailureRatioBounds_AboveZeroAtMostOne(double ratio, bool valid)
        => Validate(new BreakerOptions { FailureRatio = ratio }).Count.ShouldBe(valid ? 0 : 1);

    [Theory]
    [InlineData(1, true)]
    [InlineData(10_000, true)]
    [InlineData(0, false)]
    [InlineData(10_001, false)]
    public void Validate_ReportIntervalBounds_OneMillisecondToTenSeconds(int milliseconds, bool valid)
        => Validate(new BreakerOptions { ReportInterval = TimeSpan.FromMilliseconds(milliseconds) }).Count.ShouldBe(valid ? 0 : 1);

    [Fact]
    public void Validate_MaxBreakEqualToBreak_Valid()
        => Validate(new BreakerOptions { BreakDuration = TimeSpan.FromMinutes(1), MaxBreakDuration = TimeSpan.FromMinutes(1) }).ShouldBeEmpty();

    private static List<ValidationResult> Validate(BreakerOptions options)
    {
        // The same path ValidateDataAnnotations takes.
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
