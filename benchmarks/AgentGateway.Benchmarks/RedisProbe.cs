using System.Globalization;
using StackExchange.Redis;

namespace AgentGateway.Benchmarks;

/// <summary>Finds the benchmark's redis-server (loopback only) and fails with a clear message when it is not there.</summary>
public static class RedisProbe
{
    public static int PortFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(GovernanceCheckBenchmarks.RedisPortVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"{GovernanceCheckBenchmarks.RedisPortVariable} is not set. Start a redis-server on 127.0.0.1 and pass its port, "
                + "or run benchmarks/run-benchmarks.sh, which does both.");
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{GovernanceCheckBenchmarks.RedisPortVariable}='{value}' is not a TCP port.");
        }

        return port;
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and checks it answers PING.</summary>
    public static ConnectionMultiplexer Connect(int port)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", port } },
            AbortOnConnectFail = true,
            ConnectTimeout = 2000,
            SyncTimeout = 2000,
            ConnectRetry = 1,
        };

        ConnectionMultiplexer redis;
        try
        {
            redis = ConnectionMultiplexer.Connect(options);
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException(
                $"Redis is not reachable on 127.0.0.1:{port} ({ex.Message}). Start it with "
                + $"`redis-server --port {port} --save '' --appendonly no --bind 127.0.0.1 --daemonize no &` "
                + "or run benchmarks/run-benchmarks.sh.",
                ex);
        }

        try
        {
            redis.GetDatabase().Ping();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            redis.Close(allowCommandsToComplete: false);
            throw new InvalidOperationException($"Redis on 127.0.0.1:{port} did not answer PING: {ex.Message}", ex);
        }

        return redis;
    }
}
