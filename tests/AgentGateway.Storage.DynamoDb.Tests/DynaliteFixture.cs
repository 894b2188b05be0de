using AgentGateway.TestSupport.Servers;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Storage.DynamoDb.Tests;

/// <summary>One dynalite for every test of the collection; each test class makes its own tables (a prefix of its own).</summary>
public sealed class DynaliteFixture : IAsyncLifetime
{
    private DynaliteServer? _server;

    public DynaliteServer Server => _server ?? throw new InvalidOperationException("dynalite is not started.");

    public async Task InitializeAsync() => _server = await DynaliteServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Options for dynalite with a table prefix no other test uses.</summary>
    public DynamoDbOptions NewOptions() => new() { ServiceUrl = Server.ServiceUrl, TablePrefix = DynaliteServer.NewTablePrefix() };

    /// <summary>A client as a node makes it (no credentials configured: the local keys for loopback).</summary>
    public static AmazonDynamoDBClient CreateClient(DynamoDbOptions options) => DynamoDbClientFactory.Create(options, NullLogger.Instance);

    /// <summary>New options with their tables made, and a client for them.</summary>
    public async Task<(DynamoDbOptions Options, AmazonDynamoDBClient Client)> NewTablesAsync()
    {
        var options = NewOptions();
        var client = CreateClient(options);
        await DynamoTables.EnsureAsync(client, options, NullLogger.Instance, CancellationToken.None);
        return (options, client);
    }
}

[CollectionDefinition(Name)]
public sealed class DynaliteCollection : ICollectionFixture<DynaliteFixture>
{
    public const string Name = "dynalite";
}
