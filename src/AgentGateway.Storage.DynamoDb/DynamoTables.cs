using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// The two tables the DynamoDB stores use, made if missing (<see cref="EnsureAsync"/>), on-demand capacity: the grains'
/// state (<c>{prefix}grains</c>: Orleans' DynamoDB grain storage layout, partition key <c>GrainReference</c>, sort key
/// <c>GrainType</c>, TTL on <c>GrainTtl</c>) and the alert outbox (<c>{prefix}alerts</c>: partition key <c>id</c>, TTL
/// on <c>expires_at</c>).
/// </summary>
public static partial class DynamoTables
{
    /// <summary>How long <see cref="EnsureAsync"/> waits for a table (and its indexes) to become active.</summary>
    public static readonly TimeSpan ActiveTimeout = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The tables of <paramref name="options"/>' prefix with their indexes.</summary>
    public static IReadOnlyList<CreateTableRequest> Definitions(DynamoDbOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return
        [
            Table(
                options.GrainsTable,
                [new KeySchemaElement(DynamoSchema.GrainReference, KeyType.HASH), new KeySchemaElement(DynamoSchema.GrainType, KeyType.RANGE)],
                [(DynamoSchema.Status, ScalarAttributeType.S)],
                Index(DynamoSchema.SessionsByStatusIndex, DynamoSchema.Status, DynamoSchema.GrainReference, ProjectionType.KEYS_ONLY)),
            Table(
                options.AlertsTable,
                [new KeySchemaElement(DynamoSchema.Id, KeyType.HASH)],
                [(DynamoSchema.Pending, ScalarAttributeType.S), (DynamoSchema.Outbox, ScalarAttributeType.S), (DynamoSchema.StoredAt, ScalarAttributeType.N)],
                Index(DynamoSchema.PendingAlertsIndex, DynamoSchema.Pending, DynamoSchema.StoredAt, ProjectionType.ALL),
                Index(DynamoSchema.RecentAlertsIndex, DynamoSchema.Outbox, DynamoSchema.StoredAt, ProjectionType.ALL)),
        ];
    }

    /// <summary>
    /// Makes sure every table exists and is active with its indexes; when <see cref="DynamoDbOptions.CreateTables"/>,
    /// creates the missing ones and enables TTL on <c>expires_at</c>. Idempotent and safe when several nodes start at
    /// once (a table another node is creating is waited for). Without <see cref="DynamoDbOptions.CreateTables"/> a
    /// missing table (or index) throws <see cref="InvalidOperationException"/> naming it.
    /// </summary>
    /// <remarks>A TTL that cannot be enabled (dynalite has no TTL API) is logged, not fatal: items then just stay.</remarks>
    public static async Task EnsureAsync(IAmazonDynamoDB client, DynamoDbOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(logger);
        var definitions = Definitions(options);
        var missing = new List<string>();
        foreach (var definition in definitions)
        {
            var exists = await DescribeAsync(client, definition.TableName, cancellationToken).ConfigureAwait(false) is not null;
            if (exists)
            {
                continue;
            }

            if (!options.CreateTables)
            {
                missing.Add(definition.TableName);
                continue;
            }

            try
            {
                await client.CreateTableAsync(definition, cancellationToken).ConfigureAwait(false);
                TableCreated(logger, definition.TableName);
            }
            catch (ResourceInUseException)
            {
                // Another node created it a moment ago: wait for it like for ours.
            }
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"DynamoDB table(s) {string.Join(", ", missing.Select(static t => $"'{t}'"))} do not exist and {DynamoDbOptions.SectionName}:CreateTables is false: "
                + $"create them (see docs/storage.md) or set {DynamoDbOptions.SectionName}:CreateTables=true.");
        }

        foreach (var definition in definitions)
        {
            var table = await WaitUntilActiveAsync(client, definition.TableName, cancellationToken).ConfigureAwait(false);
            var indexes = (table.GlobalSecondaryIndexes ?? []).Select(static i => i.IndexName).ToHashSet(StringComparer.Ordinal);
            foreach (var index in definition.GlobalSecondaryIndexes ?? [])
            {
                if (!indexes.Contains(index.IndexName))
                {
                    throw new InvalidOperationException(
                        $"DynamoDB table '{definition.TableName}' has no global secondary index '{index.IndexName}' "
                        + $"({string.Join(", ", index.KeySchema.Select(static k => $"{k.AttributeName} {k.KeyType}"))}): add it (see docs/storage.md).");
                }
            }

            if (options.CreateTables)
            {
                var ttl = definition.TableName == options.GrainsTable ? DynamoSchema.GrainTtl : DynamoSchema.ExpiresAt;
                await EnableTimeToLiveAsync(client, definition.TableName, ttl, logger, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<TableDescription?> DescribeAsync(IAmazonDynamoDB client, string table, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken).ConfigureAwait(false)).Table;
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }

    /// <remarks>
    /// Polls on the wall clock, not the node's <see cref="TimeProvider"/>: this waits for another system (and a
    /// test's frozen clock must not stall a node's start).
    /// </remarks>
    private static async Task<TableDescription> WaitUntilActiveAsync(IAmazonDynamoDB client, string table, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var description = await DescribeAsync(client, table, cancellationToken).ConfigureAwait(false);
            if (description is not null
                && description.TableStatus == TableStatus.ACTIVE
                && (description.GlobalSecondaryIndexes ?? []).All(static i => i.IndexStatus == IndexStatus.ACTIVE))
            {
                return description;
            }

            if (waited.Elapsed > ActiveTimeout)
            {
                throw new TimeoutException(
                    $"DynamoDB table '{table}' is not active after {ActiveTimeout.TotalSeconds} s (status {description?.TableStatus?.Value ?? "missing"}).");
            }

            await Task.Delay(PollInterval, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task EnableTimeToLiveAsync(IAmazonDynamoDB client, string table, string attribute, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var current = await client.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = table }, cancellationToken).ConfigureAwait(false);
            var status = current.TimeToLiveDescription?.TimeToLiveStatus;
            if (status == TimeToLiveStatus.ENABLED || status == TimeToLiveStatus.ENABLING)
            {
                return;
            }

            await client.UpdateTimeToLiveAsync(
                new UpdateTimeToLiveRequest
                {
                    TableName = table,
                    TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = attribute, Enabled = true },
                },
                cancellationToken).ConfigureAwait(false);
            TimeToLiveEnabled(logger, table, attribute);
        }
        catch (AmazonDynamoDBException ex)
        {
            // dynalite answers UnknownOperationException; a node racing this one may have just enabled it (ValidationException).
            TimeToLiveNotEnabled(logger, table, ex.ErrorCode);
        }
    }

    private static CreateTableRequest Table(
        string name, KeySchemaElement[] key, (string Name, ScalarAttributeType Type)[] indexAttributes, params GlobalSecondaryIndex[] indexes) => new()
    {
        TableName = name,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        KeySchema = [.. key],
        AttributeDefinitions =
        [
            .. key.Select(static k => new AttributeDefinition(k.AttributeName, ScalarAttributeType.S)),
            .. indexAttributes.Select(static a => new AttributeDefinition(a.Name, a.Type)),
        ],
        GlobalSecondaryIndexes = indexes.Length == 0 ? null : [.. indexes],
    };

    private static GlobalSecondaryIndex Index(string name, string partitionKey, string sortKey, ProjectionType projection) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(partitionKey, KeyType.HASH), new KeySchemaElement(sortKey, KeyType.RANGE)],
        Projection = new Projection { ProjectionType = projection },
    };

    [LoggerMessage(LogEvents.Storage + 10, LogLevel.Information, "Created DynamoDB table {Table}")]
    private static partial void TableCreated(ILogger logger, string table);

    [LoggerMessage(LogEvents.Storage + 11, LogLevel.Information, "Enabled TTL on {Attribute} of DynamoDB table {Table}")]
    private static partial void TimeToLiveEnabled(ILogger logger, string table, string attribute);

    [LoggerMessage(LogEvents.Storage + 12, LogLevel.Warning, "Could not enable TTL on DynamoDB table {Table} ({ErrorCode}; dynalite has no TTL API): expired items are not deleted by the table")]
    private static partial void TimeToLiveNotEnabled(ILogger logger, string table, string? errorCode);
}
