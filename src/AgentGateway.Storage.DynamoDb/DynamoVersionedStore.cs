using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// One grain's state per item with optimistic concurrency (the <see cref="Contracts.Storage.IVersionedStore{TState}"/>
/// contract on DynamoDB, under the gateway's grain storage): a strongly consistent <c>GetItem</c> to read, a
/// <c>PutItem</c> conditional on the <c>ETag</c> attribute (<c>attribute_not_exists(GrainReference)</c> for a first
/// write) to write. A failed condition is a conflict (false).
/// </summary>
/// <remarks>
/// Item, in the layout of Orleans' own DynamoDB grain storage (which is not served here): <c>GrainReference</c> (S,
/// partition key, the grain id <c>{grain type}/{key}</c>), <c>GrainType</c> (S, sort key, the state name),
/// <c>GrainState</c> (B, <see cref="StateCodec"/>), <c>ETag</c> (N, the state's version: 1 after the first write),
/// <c>GrainTtl</c> (N, TTL) and what a subclass adds. Costs per call: a read is one strongly consistent read unit (items stay under 4 KB); a write
/// is one write unit per KB of item, whether it succeeds or fails its condition.
/// </remarks>
public abstract class DynamoVersionedStore<TState>
    where TState : class
{
    private readonly IAmazonDynamoDB _client;

    /// <param name="grainType">The grain type, the first part of <see cref="DynamoSchema.GrainReference"/>.</param>
    /// <param name="stateName">The state name, <see cref="DynamoSchema.GrainType"/>.</param>
    protected DynamoVersionedStore(IAmazonDynamoDB client, string table, string grainType, string stateName, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentException.ThrowIfNullOrEmpty(grainType);
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        ArgumentNullException.ThrowIfNull(time);
        _client = client;
        Table = table;
        StateName = stateName;
        _referencePrefix = grainType + "/";
        Time = time;
    }

    private readonly string _referencePrefix;

    public string Table { get; }

    /// <summary>The sort key value of this store's items.</summary>
    protected string StateName { get; }

    /// <summary>The grain id a key's item is stored under (<see cref="DynamoSchema.GrainReference"/>).</summary>
    protected string ReferenceOf(string key) => _referencePrefix + key;

    /// <summary>The key of a grain id (<see cref="DynamoSchema.GrainReference"/>) of this store.</summary>
    protected string KeyOfReference(string reference) =>
        reference.StartsWith(_referencePrefix, StringComparison.Ordinal) ? reference[_referencePrefix.Length..] : throw new InvalidDataException($"'{reference}' is not a {_referencePrefix} grain.");

    /// <summary>The primary key of a key's item.</summary>
    protected Dictionary<string, AttributeValue> ItemKey(string key) => new()
    {
        [DynamoSchema.GrainReference] = new() { S = ReferenceOf(key) },
        [DynamoSchema.GrainType] = new() { S = StateName },
    };

    protected TimeProvider Time { get; }

    protected IAmazonDynamoDB Client => _client;

    public async ValueTask<TState?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var response = await _client.GetItemAsync(
            new GetItemRequest
            {
                TableName = Table,
                Key = ItemKey(key),
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

        var item = ItemKey(KeyOf(state));
        item[DynamoSchema.ETag] = Number(VersionOf(state));
        item[DynamoSchema.GrainState] = new() { B = new MemoryStream(Encode(state)) };
        if (ExpiresAt(state) is { } expiresAt)
        {
            item[DynamoSchema.GrainTtl] = Number(expiresAt.ToUnixTimeSeconds());
        }

        AddAttributes(state, item);
        var request = new PutItemRequest { TableName = Table, Item = item };
        if (expectedVersion == 0)
        {
            request.ConditionExpression = "attribute_not_exists(#ref)";
            request.ExpressionAttributeNames = new Dictionary<string, string> { ["#ref"] = DynamoSchema.GrainReference };
        }
        else
        {
            request.ConditionExpression = "#etag = :expected";
            request.ExpressionAttributeNames = new Dictionary<string, string> { ["#etag"] = DynamoSchema.ETag };
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

    /// <summary>The state of a stored item (its <c>GrainState</c> attribute).</summary>
    protected TState Decode(Dictionary<string, AttributeValue> item)
    {
        if (!item.TryGetValue(DynamoSchema.GrainState, out var state) || state.B is null)
        {
            throw new InvalidDataException($"Item '{(item.TryGetValue(DynamoSchema.GrainReference, out var id) ? id.S : "?")}' of table '{Table}' has no '{DynamoSchema.GrainState}' attribute.");
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
