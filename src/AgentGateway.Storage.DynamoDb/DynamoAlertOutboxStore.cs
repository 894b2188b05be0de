using System.Globalization;
using System.Text.Json;
using AgentGateway.Alerts.Outbox;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// The alert outbox in the <c>{prefix}alerts</c> table, shared by every node: one item per alert (its message id).
/// </summary>
/// <remarks>
/// Item: <c>id</c>, <c>record</c> (the <see cref="AlertRecord"/> as JSON, without its node), <c>node</c> (the delivering
/// node; absent: any), <c>revision</c> (a fresh token on every write of the record), <c>stored_at</c> (UTC ticks),
/// <c>outbox</c> (constant: the recent index's partition), <c>pending</c> (only while a sink has not delivered: a sparse
/// index) and <c>expires_at</c> (stored + <see cref="DynamoDbOptions.AlertTimeToLive"/>). The <c>node</c> attribute is
/// the truth about who delivers an alert, so a hand-over is one conditional <c>UpdateItem</c> that never races a
/// delivered mark (which rewrites <c>record</c>, conditional on <c>revision</c>).
/// Both indexes keep one partition: fine for alerts (a few a minute), not for a high write rate.
/// </remarks>
public sealed class DynamoAlertOutboxStore : IAlertOutboxStore
{
    /// <summary>Read-modify-write attempts of a delivered mark before it gives up (each loss means another write won).</summary>
    public const int MaxMarkAttempts = 16;

    private readonly IAmazonDynamoDB _client;
    private readonly TimeSpan _timeToLive;

    public DynamoAlertOutboxStore(IAmazonDynamoDB client, DynamoDbOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        Table = options.AlertsTable;
        _timeToLive = options.AlertTimeToLive;
    }

    public string Table { get; }

    public async Task PutAsync(AlertRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _client.PutItemAsync(new PutItemRequest { TableName = Table, Item = ItemOf(record) }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores the record only if no alert with its message id is stored yet (of two nodes raising the same alert, one
    /// stores it). True when stored.
    /// </summary>
    public async Task<bool> TryAddAsync(AlertRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await _client.PutItemAsync(
                new PutItemRequest
                {
                    TableName = Table,
                    Item = ItemOf(record),
                    ConditionExpression = "attribute_not_exists(#id)",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#id"] = DynamoSchema.Id },
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    /// <summary>Reads the record, marks the sink delivered and writes it back if no other write came between (else again).</summary>
    public async Task MarkDeliveredAsync(string messageId, string sink, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(sink);
        for (var attempt = 1; attempt <= MaxMarkAttempts; attempt++)
        {
            var response = await _client.GetItemAsync(
                new GetItemRequest { TableName = Table, Key = KeyOf(messageId), ConsistentRead = true },
                cancellationToken).ConfigureAwait(false);
            if (response.Item is not { Count: > 0 } item)
            {
                throw new KeyNotFoundException($"No alert '{messageId}' in the outbox table '{Table}'.");
            }

            var record = RecordOf(item);
            var delivery = record.Delivery(sink) ?? throw new KeyNotFoundException($"Alert '{messageId}' has no delivery to '{sink}'.");
            if (delivery.DeliveredAt is not null)
            {
                return;
            }

            // The successful attempt: the failed ones before it were counted when they were put.
            delivery.Attempts++;
            delivery.LastAttemptAt = at;
            delivery.DeliveredAt = at;
            delivery.LastError = null;
            var update = new UpdateItemRequest
            {
                TableName = Table,
                Key = KeyOf(messageId),
                UpdateExpression = "SET #record = :record, #revision = :next" + (record.IsPending ? "" : " REMOVE #pending"),
                ConditionExpression = "#revision = :read",
                ExpressionAttributeNames = new Dictionary<string, string>
                {
                    ["#record"] = DynamoSchema.Record,
                    ["#revision"] = DynamoSchema.Revision,
                },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                {
                    [":record"] = new() { S = JsonOf(record) },
                    [":next"] = new() { S = NewRevision() },
                    [":read"] = item.TryGetValue(DynamoSchema.Revision, out var revision) ? revision : new AttributeValue { S = "" },
                },
            };
            if (!record.IsPending)
            {
                update.ExpressionAttributeNames["#pending"] = DynamoSchema.Pending;
            }

            try
            {
                await _client.UpdateItemAsync(update, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ConditionalCheckFailedException)
            {
                // Another write of the record came between: read it again.
            }
        }

        throw new InvalidOperationException($"Alert '{messageId}': the delivered mark of '{sink}' lost {MaxMarkAttempts} write races in a row.");
    }

    /// <summary>The undelivered alerts (the sparse pending index), oldest first.</summary>
    public async Task<IReadOnlyList<AlertRecord>> ListPendingAsync(CancellationToken cancellationToken = default)
    {
        var records = new List<AlertRecord>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await _client.QueryAsync(
                new QueryRequest
                {
                    TableName = Table,
                    IndexName = DynamoSchema.PendingAlertsIndex,
                    KeyConditionExpression = "#pending = :pending",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#pending"] = DynamoSchema.Pending },
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pending"] = new() { S = DynamoSchema.PendingValue } },
                    ExclusiveStartKey = start,
                },
                cancellationToken).ConfigureAwait(false);
            records.AddRange((response.Items ?? []).Select(RecordOf));
            start = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        // The index is eventually consistent: a record delivered a moment ago may still be listed.
        return [.. records.Where(static r => r.IsPending).OrderBy(static r => r.StoredAt).ThenBy(static r => r.Alert.MessageId, StringComparer.Ordinal)];
    }

    /// <summary>The newest <paramref name="limit"/> alerts (ties in store time by message id), from the recent index.</summary>
    public async Task<IReadOnlyList<AlertRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit == 0)
        {
            return [];
        }

        var records = new List<AlertRecord>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await _client.QueryAsync(
                new QueryRequest
                {
                    TableName = Table,
                    IndexName = DynamoSchema.RecentAlertsIndex,
                    KeyConditionExpression = "#outbox = :outbox",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#outbox"] = DynamoSchema.Outbox },
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":outbox"] = new() { S = DynamoSchema.OutboxValue } },
                    ScanIndexForward = false,
                    Limit = limit + 1,
                    ExclusiveStartKey = start,
                },
                cancellationToken).ConfigureAwait(false);
            records.AddRange((response.Items ?? []).Select(RecordOf));
            start = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        // Read on past the limit while the store time ties with the last one kept, so ties are broken by id exactly.
        while (start is not null && (records.Count <= limit || records[^1].StoredAt == records[limit - 1].StoredAt));

        return [.. records.OrderByDescending(static r => r.StoredAt).ThenBy(static r => r.Alert.MessageId, StringComparer.Ordinal).Take(limit)];
    }

    private Dictionary<string, AttributeValue> ItemOf(AlertRecord record)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [DynamoSchema.Id] = new() { S = record.Alert.MessageId },
            [DynamoSchema.Record] = new() { S = JsonOf(record) },
            [DynamoSchema.Revision] = new() { S = NewRevision() },
            [DynamoSchema.StoredAt] = new() { N = record.StoredAt.UtcTicks.ToString(CultureInfo.InvariantCulture) },
            [DynamoSchema.Outbox] = new() { S = DynamoSchema.OutboxValue },
            [DynamoSchema.ExpiresAt] = new() { N = (record.StoredAt + _timeToLive).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) },
        };
        if (record.Node is { } node)
        {
            item[DynamoSchema.Node] = new AttributeValue { S = node };
        }

        if (record.IsPending)
        {
            item[DynamoSchema.Pending] = new AttributeValue { S = DynamoSchema.PendingValue };
        }

        return item;
    }

    /// <summary>The record's JSON without its node (the <c>node</c> attribute holds it).</summary>
    private static string JsonOf(AlertRecord record)
    {
        var json = JsonSerializer.SerializeToNode(record, AlertJson.Default.AlertRecord)!.AsObject();
        json.Remove("node");
        return json.ToJsonString();
    }

    private static AlertRecord RecordOf(Dictionary<string, AttributeValue> item)
    {
        var record = JsonSerializer.Deserialize(item[DynamoSchema.Record].S, AlertJson.Default.AlertRecord)
            ?? throw new InvalidDataException($"Alert item '{item[DynamoSchema.Id].S}' holds no record.");
        record.Node = item.TryGetValue(DynamoSchema.Node, out var node) ? node.S : null;
        return record;
    }

    private static Dictionary<string, AttributeValue> KeyOf(string messageId) => new() { [DynamoSchema.Id] = new() { S = messageId } };

    private static string NewRevision() => Guid.NewGuid().ToString("N");
}
