using StackExchange.Redis;

namespace AgentGateway.Redis.Tests;

public sealed class RedisConnectionTests
{
    [Fact]
    public void Configure_TheGatewaysTimeoutsAndPoliciesOverTheConfigurationString()
    {
        var configuration = RedisConnection.Configure(new RedisOptions { Configuration = "127.0.0.1:6379,password=secret" });

        configuration.EndPoints.ShouldHaveSingleItem().ToString().ShouldBe("127.0.0.1:6379");
        configuration.Password.ShouldBe("secret");
        configuration.AbortOnConnectFail.ShouldBeFalse();
        configuration.ConnectTimeout.ShouldBe(2_000);
        configuration.ConnectRetry.ShouldBe(1);
        configuration.AsyncTimeout.ShouldBe(250);
        configuration.SyncTimeout.ShouldBe(250);
        configuration.HeartbeatInterval.ShouldBe(TimeSpan.FromMilliseconds(62.5));
        configuration.BacklogPolicy.ShouldBeSameAs(BacklogPolicy.FailFast);
        configuration.ClientName.ShouldBe("agent-gateway");
    }

    [Fact]
    public void Configure_ClientNameFromTheConfigurationStringKept()
    {
        RedisConnection.Configure(new RedisOptions { Configuration = "127.0.0.1:6379,name=node-7" }).ClientName.ShouldBe("node-7");
    }

    [Theory]
    [InlineData(20, 10)]
    [InlineData(2_000, 500)]
    [InlineData(30_000, 1_000)]
    public void Configure_HeartbeatAQuarterOfTheTimeoutBetweenTenMillisecondsAndASecond(int timeoutMs, int heartbeatMs)
    {
        RedisConnection.Configure(new RedisOptions { Configuration = "127.0.0.1:6379", OperationTimeout = TimeSpan.FromMilliseconds(timeoutMs) })
            .HeartbeatInterval.ShouldBe(TimeSpan.FromMilliseconds(heartbeatMs));
    }

    [Fact]
    public void Configure_NoConfiguration_Throws()
    {
        Should.Throw<InvalidOperationException>(() => RedisConnection.Configure(new RedisOptions()))
            .Message.ShouldBe("Redis:Configuration is not set.");
    }
}
