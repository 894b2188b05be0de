using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// One item per key with optimistic concurrency (the <see cref="Contracts.Storage.IVersionedStore{TState}"/> contract
/// on DynamoDB): a strongly consistent <c>GetItem</c> to read, a <c>PutItem</c> conditional on the <c>version</c>
/// attribute (<c>attribute_not_exists(id)</c> for a first write) to write. A failed condition is a conflict (false).
/// </summary>
/// <remarks>
/// Item: <c>id</c> (S), <c>version</c> (N), <c>state</c> (B, <see cref="StateCodec"/>), <c>expires_at</c> (N, TTL) and
/// what a subclass adds. Costs per call: a read is one strongly consistent read unit (items stay under 4 KB); a write
/// is one write unit per KB of item, whether it succeeds or fails its condition.
/// </remarks>
public abstract class DynamoVersionedStore<TState>
    where TState : class
{
    private readonly IAmazonDynamoDB _client;

    protected DynamoVersionedStore(IAmazonDynamoDB client, string table, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentNullException.ThrowIfNull(time);
        _client = client;
        Table = table;
        Time = time;
    }

    public string Table { get; }

    protected TimeProvider Time { get; }

    protected IAmazonDynamoDB Client => _client;

    public async ValueTask<TState?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var response = await _client.GetItemAsync(
            new GetItemRequest
            {
                TableName = Table,
                Key = new Dictionary<string, AttributeValue> { [DynamoSchema.Id] = new() { S = key } },
                ConsistentRead = true,
            },
            cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? Decode(item) : null;
    }

    public async ValueTask<bool> TryWriteAsync(TState state, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        if (VersionOf(state) != expectedVersion + 1)
        {
            throw new ArgumentException($"The new version must be {expectedVersion + 1} (was {VersionOf(state)}).", nameof(state));
        }

        var item = new Dictionary<string, AttributeValue>
        {
            [DynamoSchema.Id] = new() { S = KeyOf(state) },
            [DynamoSchema.Version] = Number(VersionOf(state)),
            [DynamoSchema.State] = new() { B = new MemoryStream(Encode(state)) },
        };
        if (ExpiresAt(state) is { } expiresAt)
        {
            item[DynamoSchema.ExpiresAt] = Number(expiresAt.ToUnixTimeSeconds());
        }

        AddAttributes(state, item);
        var request = new PutItemRequest { TableName = Table, Item = item };
        if (expectedVersion == 0)
        {
            request.ConditionExpression = "attribute_not_exists(#id)";
            request.ExpressionAttributeNames = new Dictionary<string, string> { ["#id"] = DynamoSchema.Id };
        }
        else
        {
            request.ConditionExpression = "#version = :expected";
            request.ExpressionAttributeNames = new Dictionary<string, string> { ["#version"] = DynamoSchema.Version };
            request.ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":expected"] = Number(expectedVersion) };
        }

        try
        {
            await _client.PutItemAsync(request, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>The state of a stored item (its <c>state</c> attribute).</summary>
    protected TState Decode(Dictionary<string, AttributeValue> item)
    {
        if (!item.TryGetValue(DynamoSchema.State, out var state) || state.B is null)
        {
            throw new InvalidDataException($"Item '{(item.TryGetValue(DynamoSchema.Id, out var id) ? id.S : "?")}' of table '{Table}' has no '{DynamoSchema.State}' attribute.");
        }

        return Decode(state.B.ToArray());
    }

    protected static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    protected abstract string KeyOf(TState state);

    protected abstract long VersionOf(TState state);

    protected abstract byte[] Encode(TState state);

    protected abstract TState Decode(byte[] bytes);

    /// <summary>When the item may be deleted (null: never).</summary>
    protected abstract DateTimeOffset? ExpiresAt(TState state);

    /// <summary>Adds a subclass's own attributes (e.g. an index key) to the item being written.</summary>
    protected virtual void AddAttributes(TState state, Dictionary<string, AttributeValue> item)
    {
    }
}
