using AgentGateway.TestSupport.Servers;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>A real redis-server of a test class's own, and the settings that point gateway nodes at it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("Not started.");

    /// <summary>
    /// <see cref="GatewayFixture.SharedSettings"/> plus Redis at this server, under a key prefix of the caller's own
    /// (nodes that pass the same prefix share a cache and limits), and <paramref name="more"/>.
    /// </summary>
    public Dictionary<string, string> NodeSettings(string keyPrefix, IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Redis:Configuration"] = Server.Configuration,
            ["Redis:KeyPrefix"] = keyPrefix,

            // Generous on a shared, busy test machine: these tests want Redis's answers, not degraded misses.
            ["Redis:OperationTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..10] + ":";

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
