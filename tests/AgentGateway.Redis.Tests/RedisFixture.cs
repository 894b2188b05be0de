using System.Diagnostics.Metrics;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Redis.Tests;

/// <summary>One real redis-server per test class; each test keeps apart with a key prefix of its own.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A connection to a test's Redis with a unique key prefix, and what it needs around it.</summary>
public sealed class RedisClient : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public RedisClient(string configuration, FakeTimeProvider time, TimeSpan? operationTimeout = null)
    {
        Prefix = "test-" + Guid.NewGuid().ToString("N")[..12] + ":";
        Connection = new RedisConnection(
            Options.Create(new RedisOptions
            {
                Configuration = configuration,
                KeyPrefix = Prefix,

                // Generous: the shared test machine is slow at times, and these tests want answers, not misses.
                OperationTimeout = operationTimeout ?? TimeSpan.FromSeconds(5),
            }),
            NullLogger<RedisConnection>.Instance);
        Failures = new RedisFailures(_services.GetRequiredService<IMeterFactory>(), time, NullLogger<RedisFailures>.Instance);
    }

    public string Prefix { get; }

    public RedisConnection Connection { get; }

    public RedisFailures Failures { get; }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _services.DisposeAsync();
    }
}
