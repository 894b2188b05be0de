using System.Globalization;
using AgentGateway.Contracts.Cluster;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// The cluster's nodes in the <c>{prefix}nodes</c> table, one item per node: its fields as plain attributes (times in
/// the round-trip format), <c>expires_at</c> = <see cref="NodeRecord.ExpiresAt"/> in epoch seconds (TTL).
/// </summary>
/// <remarks>Listing scans the table (a handful of items); DynamoDB deletes expired records within a day or two, readers go by the heartbeat.</remarks>
public sealed class DynamoNodeRegistry : INodeRegistry
{
    private readonly IAmazonDynamoDB _client;

    public DynamoNodeRegistry(IAmazonDynamoDB client, DynamoDbOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        Table = options.NodesTable;
    }

    public string Table { get; }

    public async Task UpsertAsync(NodeRecord node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        var item = new Dictionary<string, AttributeValue>
        {
            [DynamoSchema.Id] = new() { S = node.NodeId },
            [DynamoSchema.Address] = new() { S = node.Address },
            [DynamoSchema.StartedAt] = Time(node.StartedAt),
            [DynamoSchema.HeartbeatAt] = Time(node.HeartbeatAt),
            [DynamoSchema.SessionActivations] = Number(node.SessionActivations),
            [DynamoSchema.BreakerActivations] = Number(node.BreakerActivations),
            [DynamoSchema.Conversations] = Number(node.Conversations),
            [DynamoSchema.Sockets] = Number(node.Sockets),
            [DynamoSchema.Expires] = Time(node.ExpiresAt),
            [DynamoSchema.ExpiresAt] = Number(node.ExpiresAt.ToUnixTimeSeconds()),
        };
        await _client.PutItemAsync(new PutItemRequest { TableName = Table, Item = item }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        var nodes = new List<NodeRecord>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await _client.ScanAsync(
                new ScanRequest { TableName = Table, ConsistentRead = true, ExclusiveStartKey = start },
                cancellationToken).ConfigureAwait(false);
            nodes.AddRange((response.Items ?? []).Select(RecordOf));
            start = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return [.. nodes.OrderBy(static n => n.NodeId, StringComparer.Ordinal)];
    }

    public async Task RemoveAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        await _client.DeleteItemAsync(
            new DeleteItemRequest { TableName = Table, Key = new Dictionary<string, AttributeValue> { [DynamoSchema.Id] = new() { S = nodeId } } },
            cancellationToken).ConfigureAwait(false);
    }

    private static NodeRecord RecordOf(Dictionary<string, AttributeValue> item) => new(
        item[DynamoSchema.Id].S,
        item[DynamoSchema.Address].S,
        ParseTime(item[DynamoSchema.StartedAt]),
        ParseTime(item[DynamoSchema.HeartbeatAt]),
        ParseInt(item[DynamoSchema.SessionActivations]),
        ParseInt(item[DynamoSchema.BreakerActivations]),
        ParseInt(item[DynamoSchema.Conversations]),
        ParseInt(item[DynamoSchema.Sockets]),
        ParseTime(item[DynamoSchema.Expires]));

    private static AttributeValue Time(DateTimeOffset time) => new() { S = time.ToString("O", CultureInfo.InvariantCulture) };

    private static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    private static DateTimeOffset ParseTime(AttributeValue value) => DateTimeOffset.ParseExact(value.S, "O", CultureInfo.InvariantCulture, DateTimeStyles.None);

    private static int ParseInt(AttributeValue value) => int.Parse(value.N, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
