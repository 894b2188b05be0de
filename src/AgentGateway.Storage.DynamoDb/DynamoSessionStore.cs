using AgentGateway.Contracts.Sessions;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// Sessions in the <c>{prefix}grains</c> table, one item per session (<c>session/{id}</c>, state <c>session</c>; see
/// <see cref="DynamoVersionedStore{TState}"/>), plus <c>status</c> (S) for the <c>status-GrainReference</c> index the
/// catalog pages through. An active session's item expires
/// <see cref="DynamoDbOptions.SessionTimeToLive"/> after its last write; a tripped or ended one never does (a refusal
/// writes nothing, so a runaway agent still calling a tripped session would otherwise see the trip deleted and start afresh).
/// </summary>
/// <remarks>
/// The index projects keys only, so a write that does not change a session's status writes nothing to it (one write
/// unit per governed decision, not two); a catalog page costs one index query per status asked for plus a
/// strongly consistent <c>BatchGetItem</c> of the page's sessions.
/// </remarks>
public sealed class DynamoSessionStore(IAmazonDynamoDB client, DynamoDbOptions options, TimeProvider time)
    : DynamoVersionedStore<SessionState>(client, options.GrainsTable, GrainType, GrainType, time), ISessionStore, ISessionCatalog
{
    /// <summary>The session grain's type and state name.</summary>
    public const string GrainType = "session";

    /// <summary>Keys per <c>BatchGetItem</c> (DynamoDB's limit).</summary>
    private const int BatchGetLimit = 100;

    private static readonly SessionStatus[] Statuses = [SessionStatus.Active, SessionStatus.Tripped, SessionStatus.Ended];

    private readonly TimeSpan _timeToLive = options.SessionTimeToLive;

    /// <remarks>
    /// Ids come from the index, which is eventually consistent; the page's items are then read consistently and
    /// those whose status no longer matches are left out, so a page can hold fewer than <paramref name="limit"/>
    /// sessions while <see cref="SessionPage.NextCursor"/> still points further. DynamoDB orders the sort key by UTF-8
    /// bytes, which is ordinal order for the ASCII ids the gateway accepts.
    /// </remarks>
    public async ValueTask<SessionPage> ListAsync(SessionStatus? status, int limit, string? after, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var ids = new List<string>();
        foreach (var s in status is { } one ? [one] : Statuses)
        {
            ids.AddRange(await QueryIdsAsync(s, limit + 1, after, cancellationToken).ConfigureAwait(false));
        }

        ids.Sort(StringComparer.Ordinal);
        var more = ids.Count > limit;
        var page = ids.Take(limit).ToList();
        var states = await BatchReadAsync(page, cancellationToken).ConfigureAwait(false);
        var items = page
            .Select(id => states.GetValueOrDefault(id))
            .Where(s => s is not null && (status is null || s.Status == status))
            .Select(static s => s!)
            .ToList();
        return new SessionPage(items, more ? page[^1] : null);
    }

    protected override string KeyOf(SessionState state) => state.SessionId;

    protected override long VersionOf(SessionState state) => state.Version;

    protected override byte[] Encode(SessionState state) => StateCodec.Encode(state);

    protected override SessionState Decode(byte[] bytes) => StateCodec.DecodeSession(bytes);

    protected override DateTimeOffset? ExpiresAt(SessionState state) =>
        state.Status == SessionStatus.Active ? Time.GetUtcNow() + _timeToLive : null;

    protected override void AddAttributes(SessionState state, Dictionary<string, AttributeValue> item) =>
        item[DynamoSchema.Status] = new AttributeValue { S = state.Status.ToWireName() };

    /// <summary>Up to <paramref name="count"/> ids in <paramref name="status"/> after <paramref name="after"/>, in order.</summary>
    private async Task<List<string>> QueryIdsAsync(SessionStatus status, int count, string? after, CancellationToken cancellationToken)
    {
        var ids = new List<string>(Math.Min(count, 1024));
        var values = new Dictionary<string, AttributeValue> { [":status"] = new() { S = status.ToWireName() } };
        if (after is not null)
        {
            values[":after"] = new AttributeValue { S = ReferenceOf(after) };
        }

        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await Client.QueryAsync(
                new QueryRequest
                {
                    TableName = Table,
                    IndexName = DynamoSchema.SessionsByStatusIndex,
                    KeyConditionExpression = after is null ? "#status = :status" : "#status = :status AND #id > :after",
                    ExpressionAttributeNames = after is null
                        ? new Dictionary<string, string> { ["#status"] = DynamoSchema.Status }
                        : new Dictionary<string, string> { ["#status"] = DynamoSchema.Status, ["#id"] = DynamoSchema.GrainReference },
                    ExpressionAttributeValues = values,
                    Limit = count - ids.Count,
                    ExclusiveStartKey = start,
                },
                cancellationToken).ConfigureAwait(false);
            ids.AddRange((response.Items ?? []).Select(i => KeyOfReference(i[DynamoSchema.GrainReference].S)));
            start = response.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null && ids.Count < count);

        return ids;
    }

    private async Task<Dictionary<string, SessionState>> BatchReadAsync(List<string> ids, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, SessionState>(ids.Count, StringComparer.Ordinal);
        foreach (var chunk in ids.Chunk(BatchGetLimit))
        {
            var keys = new KeysAndAttributes
            {
                Keys = [.. chunk.Select(ItemKey)],
                ConsistentRead = true,
            };
            var unprocessedRounds = 0;
            while (keys is { Keys.Count: > 0 })
            {
                var response = await Client.BatchGetItemAsync(
                    new BatchGetItemRequest { RequestItems = new Dictionary<string, KeysAndAttributes> { [Table] = keys } },
                    cancellationToken).ConfigureAwait(false);
                if (response.Responses?.GetValueOrDefault(Table) is { } items)
                {
                    foreach (var item in items)
                    {
                        var state = Decode(item);
                        states[state.SessionId] = state;
                    }
                }

                keys = response.UnprocessedKeys?.GetValueOrDefault(Table);
                if (keys is { Keys.Count: > 0 } && ++unprocessedRounds > 1)
                {
                    // Throttled: back off a little (wall clock: this waits for DynamoDB, not for governance time).
                    await Task.Delay(TimeSpan.FromMilliseconds(50 * unprocessedRounds), TimeProvider.System, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return states;
    }
}
