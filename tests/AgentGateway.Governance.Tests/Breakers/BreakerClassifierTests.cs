using AgentGateway.Governance.Breakers;

namespace AgentGateway.Governance.Tests.Breakers;

public sealed class BreakerClassifierTests
{
    [Theory]
    [InlineData(200, BreakerOutcome.Success)]
    [InlineData(204, BreakerOutcome.Success)]
    [InlineData(304, BreakerOutcome.Success)]
    [InlineData(400, BreakerOutcome.Ignored)]
    [InlineData(401, BreakerOutcome.Ignored)]
    [InlineData(403, BreakerOutcome.Ignored)]
    [InlineData(404, BreakerOutcome.Ignored)]
    [InlineData(408, BreakerOutcome.Failure)]
    [InlineData(413, BreakerOutcome.Ignored)]
    [InlineData(422, BreakerOutcome.Ignored)]
    [InlineData(429, BreakerOutcome.Failure)]
    [InlineData(499, BreakerOutcome.Ignored)]
    [InlineData(500, BreakerOutcome.Failure)]
    [InlineData(502, BreakerOutcome.Failure)]
    [InlineData(503, BreakerOutcome.Failure)]
    [InlineData(504, BreakerOutcome.Failure)]
    [InlineData(599, BreakerOutcome.Failure)]
    [InlineData(0, BreakerOutcome.Failure)]
    [InlineData(600, BreakerOutcome.Failure)]
    public void FromStatus_StatusCode_MapsToOutcome(int status, BreakerOutcome expected)
        => BreakerClassifier.FromStatus(status).ShouldBe(expected);

    [Fact]
    public void IsSlow_ExactlyAtThreshold_NotSlowAndOneTickOverIs()
    {
        var threshold = TimeSpan.FromSeconds(10);

        BreakerClassifier.IsSlow(threshold, threshold).ShouldBeFalse();
        BreakerClassifier.IsSlow(threshold + TimeSpan.FromTicks(1), threshold).ShouldBeTrue();
    }

    [Theory]
    [InlineData(BreakerOutcome.Success, 5, RecordedOutcome.Success)]
    [InlineData(BreakerOutcome.Success, 11, RecordedOutcome.SlowCall)]
    [InlineData(BreakerOutcome.Failure, 5, RecordedOutcome.Failure)]
    [InlineData(BreakerOutcome.Failure, 11, RecordedOutcome.Failure)]
    [InlineData(BreakerOutcome.Ignored, 11, RecordedOutcome.Ignored)]
    public void Classify_OutcomeAndDuration_RecordedAs(BreakerOutcome outcome, int seconds, RecordedOutcome expected)
        => BreakerClassifier.Classify(outcome, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(10)).ShouldBe(expected);

    [Fact]
    public void Classify_UnknownOutcome_Throws()
        => Should.Throw<ArgumentOutOfRangeException>(
            () => BreakerClassifier.Classify((BreakerOutcome)42, TimeSpan.Zero, TimeSpan.FromSeconds(10)));
}
