using AgentGateway.Contracts.Cluster;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb.Tests;

[Collection(DynaliteCollection.Name)]
public sealed class DynamoNodeRegistryTests(DynaliteFixture dynalite) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private DynamoDbOptions _options = null!;
    private AmazonDynamoDBClient _client = null!;
    private DynamoNodeRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        (_options, _client) = await dynalite.NewTablesAsync();
        _registry = new DynamoNodeRegistry(_client, _options);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task UpsertListRemove_RecordsRoundTripInNodeIdOrder()
    {
        var b = new NodeRecord("node-b", "http://10.0.0.2:5080", Start, Start.AddSeconds(5), 3, 1, 2, 4, Start.AddSeconds(35));
        var a = new NodeRecord("node-a", "http://10.0.0.1:5080", Start.AddTicks(1), new DateTimeOffset(2026, 1, 1, 1, 0, 5, TimeSpan.FromHours(1)).AddTicks(5), 0, 0, 0, 0, Start.AddSeconds(30.25));
        await _registry.UpsertAsync(b);
        await _registry.UpsertAsync(a);
        var heartbeat = b with { HeartbeatAt = Start.AddSeconds(10), SessionActivations = 7, ExpiresAt = Start.AddSeconds(40) };
        await _registry.UpsertAsync(heartbeat);

        var listed = await _registry.ListAsync();
        await _registry.RemoveAsync("node-a");
        await _registry.RemoveAsync("never-registered");
        var afterRemove = await _registry.ListAsync();

        listed.ShouldBe([a, heartbeat]);
        listed[0].HeartbeatAt.Offset.ShouldBe(TimeSpan.FromHours(1));
        afterRemove.ShouldBe([heartbeat]);
    }

    [Fact]
    public async Task UpsertAsync_Item_ExpiresAtIsTheRecordsExpiryInEpochSeconds()
    {
        await _registry.UpsertAsync(new NodeRecord("n1", "http://n1", Start, Start, 0, 0, 0, 0, Start.AddSeconds(30.9)));

        var item = (await _client.GetItemAsync(_options.NodesTable, new Dictionary<string, AttributeValue> { ["id"] = new() { S = "n1" } })).Item;

        item["expires_at"].N.ShouldBe(Start.AddSeconds(30).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
