using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Redis.Tests;

public sealed class RedisOptionsTests
{
    [Fact]
    public void Defaults_OffAndValid()
    {
        var options = new RedisOptions();
        options.Enabled.ShouldBeFalse();
        options.KeyPrefix.ShouldBe("agw:");
        options.OperationTimeout.ShouldBe(TimeSpan.FromMilliseconds(250));
        Errors(options).ShouldBeEmpty();
    }

    [Fact]
    public void Invalid_EveryErrorNamed()
    {
        var errors = Errors(new RedisOptions
        {
            Configuration = "127.0.0.1:6379,nonsense=1",
            OperationTimeout = TimeSpan.Zero,
            ConnectTimeout = TimeSpan.FromHours(1),
        });

        errors.Count.ShouldBe(3);
        errors[0].ShouldStartWith("Redis:Configuration is not a valid Redis configuration: ");
        errors[1].ShouldBe("Redis:OperationTimeout must be positive and at most 30 s (was 00:00:00).");
        errors[2].ShouldBe("Redis:ConnectTimeout must be positive and at most a minute (was 01:00:00).");
    }

    private static List<string> Errors(RedisOptions options) =>
        [.. options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!)];
}
