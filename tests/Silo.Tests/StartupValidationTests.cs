using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// A bad setting stops the node at start, with every error listed, not at the first request. The node is
/// started as a user starts it: its own process, settings from environment variables.
/// </summary>
public sealed class StartupValidationTests
{
    private const string MaxLoopsError = "Governance:MaxLoops: The field MaxLoops must be between 1 and 100000.";
    private const string BodyLimitError = "Gateway:MaxRequestBodyBytes: The field MaxRequestBodyBytes must be between 1024 and 268435456.";
    private const string ProviderError = "Models:haiku:Provider 'nope' is unknown; known providers: simulated.";

    [Theory]
    [InlineData("Governance:MaxLoops", "0", MaxLoopsError)]
    [InlineData("Gateway:MaxRequestBodyBytes", "1", BodyLimitError)]
    [InlineData("Models:haiku:Provider", "nope", ProviderError)]
    [InlineData("Governance:Window", "00:00:00.5", "Governance:Window must be at least 1 second (was 00:00:00.5000000).")]
    [InlineData("Cluster:SiloPort", "70000", "Cluster:SiloPort: The field SiloPort must be between 0 and 65535.")]
    [InlineData("Cluster:CollectionAge", "00:00:10", "Cluster:CollectionAge must be from 1 minute to 1 day (was 00:00:10).")]
    [InlineData("Chat:DefaultModel", "gpt-17", "Chat:DefaultModel 'gpt-17' is not a served model.")]
    [InlineData("Chat:MaxMessageBytes", "10", "Chat:MaxMessageBytes: The field MaxMessageBytes must be between 1024 and 16777216.")]
    [InlineData("Chat:IdleTimeout", "00:00:00", "Chat:IdleTimeout must be at least 00:00:01 (was 00:00:00).")]
    [InlineData("Governance:StreamGrantTokens", "0", "Governance:StreamGrantTokens: The field StreamGrantTokens must be between 1 and 1000000.")]
    [InlineData("Gateway:Limits:RequestsPerMinute", "-1", "Gateway:Limits:RequestsPerMinute must be from 0 (unlimited) to 1,000,000 (was -1).")]
    [InlineData("Gateway:Limits:TokensPerMinute", "1000000001", "Gateway:Limits:TokensPerMinute must be from 0 (unlimited) to 1,000,000,000 (was 1000000001).")]
    [InlineData("Redis:OperationTimeout", "00:00:00", "Redis:OperationTimeout must be positive and at most 30 s (was 00:00:00).")]
    public async Task Start_OneBadSetting_ExitsWithCode2AndTheError(string key, string value, string error)
    {
        var (exitCode, stderr) = await SiloProcess.RunUntilExitAsync(new Dictionary<string, string> { [key] = value });

        exitCode.ShouldBe(2);
        stderr.ShouldBe(["The gateway did not start: 1 configuration error(s).", "  - " + error]);
    }

    [Fact]
    public async Task Start_SeveralBadSettings_ListsEveryErrorAndListensNowhere()
    {
        var (exitCode, stderr) = await SiloProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["Governance:MaxLoops"] = "0",
            ["Gateway:MaxRequestBodyBytes"] = "1",
            ["Models:haiku:Provider"] = "nope",
            ["Cluster:SiloPort"] = "70000",
            ["Cluster:CollectionAge"] = "00:00:10",
        });

        exitCode.ShouldBe(2);
        stderr[0].ShouldBe("The gateway did not start: 5 configuration error(s).");
        stderr.Skip(1).Order(StringComparer.Ordinal).ShouldBe(
            new[]
            {
                "  - Cluster:CollectionAge must be from 1 minute to 1 day (was 00:00:10).",
                "  - Cluster:SiloPort: The field SiloPort must be between 0 and 65535.",
                "  - " + BodyLimitError,
                "  - " + MaxLoopsError,
                "  - " + ProviderError,
            }.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CompleteOptionsValidator_AttributeAndRuleErrorsInOneClass_BothListed()
    {
        var options = new ClusterOptions { SiloPort = -1, CollectionAge = TimeSpan.Zero };

        var result = new CompleteOptionsValidator<ClusterOptions>("Cluster").Validate(null, options);

        result.Failed.ShouldBeTrue();
        result.Failures.ShouldBe(
        [
            "Cluster:SiloPort: The field SiloPort must be between 0 and 65535.",
            "Cluster:CollectionAge must be from 1 minute to 1 day (was 00:00:00).",
        ]);
    }

    [Fact]
    public void CompleteOptionsValidator_Defaults_Succeed()
        => new CompleteOptionsValidator<ClusterOptions>("Cluster").Validate(null, new ClusterOptions()).Succeeded.ShouldBeTrue();
}
