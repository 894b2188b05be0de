using AgentGateway.Silo.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Tests;

/// <summary>A bad setting stops the node at start, with every error listed, not at the first request.</summary>
public sealed class StartupValidationTests
{
    private const string MaxLoopsError = "The field MaxLoops must be between 1 and 100000.";
    private const string BodyLimitError = "The field MaxRequestBodyBytes must be between 1024 and 268435456.";
    private const string ProviderError = "Models:haiku:Provider 'nope' is unknown; known providers: simulated.";

    [Theory]
    [InlineData("Governance:MaxLoops", "0", MaxLoopsError)]
    [InlineData("Gateway:MaxRequestBodyBytes", "1", BodyLimitError)]
    [InlineData("Models:haiku:Provider", "nope", ProviderError)]
    [InlineData("Governance:Window", "00:00:00.5", "Governance:Window must be at least 1 second (was 00:00:00.5000000).")]
    [InlineData("Actors:MailboxCapacity", "0", "The field MailboxCapacity must be between 1 and 1000000.")]
    public async Task Start_OneBadSetting_ThrowsOptionsValidationException(string key, string value, string error)
    {
        await using var factory = new GatewayFactory(new Dictionary<string, string> { [key] = value });

        var exception = Should.Throw<OptionsValidationException>(() => factory.StartOnKestrel());

        exception.Failures.ShouldContain(f => f.Contains(error, StringComparison.Ordinal));
        exception.Message.ShouldContain(error);
    }

    [Fact]
    public async Task Start_SeveralBadSettings_ListsEveryError()
    {
        await using var factory = new GatewayFactory(new Dictionary<string, string>
        {
            ["Governance:MaxLoops"] = "0",
            ["Gateway:MaxRequestBodyBytes"] = "1",
            ["Models:haiku:Provider"] = "nope",
        });

        var exception = Should.Throw<AggregateException>(() => factory.StartOnKestrel());

        exception.InnerExceptions.Count.ShouldBe(3);
        exception.InnerExceptions.ShouldAllBe(e => e is OptionsValidationException);
        var failures = exception.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures).ToList();
        failures.ShouldContain(f => f.Contains(MaxLoopsError, StringComparison.Ordinal));
        failures.ShouldContain(f => f.Contains(BodyLimitError, StringComparison.Ordinal));
        failures.ShouldContain(f => f.Contains(ProviderError, StringComparison.Ordinal));
        exception.Message.ShouldContain(MaxLoopsError);
        exception.Message.ShouldContain(BodyLimitError);
        exception.Message.ShouldContain(ProviderError);
    }
}
