namespace AgentGateway.Storage.DynamoDb;

/// <summary>The tables' attribute and index names (stored: never rename).</summary>
public static class DynamoSchema
{
    /// <summary>The alerts table's partition key (S): the alert's message id.</summary>
    public const string Id = "id";

    /// <summary>
    /// The grains table's partition key (S): the grain id, <c>{grain type}/{key}</c> (<c>session/abc</c>,
    /// <c>breaker/gpt-4o</c>), as in Orleans' own DynamoDB grain storage.
    /// </summary>
    public const string GrainReference = "GrainReference";

    /// <summary>The grains table's sort key (S): the grain's state name (<c>session</c>, <c>breaker</c>).</summary>
    public const string GrainType = "GrainType";

    /// <summary>A grain's encoded state (B, <see cref="StateCodec"/>).</summary>
    public const string GrainState = "GrainState";

    /// <summary>A grain state's ETag (N): its version, what every write is conditional on.</summary>
    public const string ETag = "ETag";

    /// <summary>When DynamoDB may delete a grain's item (N, Unix epoch seconds): the grains table's TTL attribute.</summary>
    public const string GrainTtl = "GrainTtl";

    /// <summary>A session's status wire name (S: <c>active</c>, <c>tripped</c>, <c>ended</c>), the status index's key.</summary>
    public const string Status = "status";

    /// <summary>When DynamoDB may delete an alert's item (N, Unix epoch seconds): the alerts table's TTL attribute.</summary>
    public const string ExpiresAt = "expires_at";

    /// <summary>
    /// The grains table's index of sessions by status: partition key <see cref="Status"/> (only session items carry it,
    /// so the index is sparse), sort key <see cref="GrainReference"/>, keys only.
    /// </summary>
    public const string SessionsByStatusIndex = "status-GrainReference";

    /// <summary>An alert record as JSON (S), its <c>node</c> left out (the <see cref="Node"/> attribute holds it).</summary>
    public const string Record = "record";

    /// <summary>The node delivering an alert (S; absent: any node).</summary>
    public const string Node = "node";

    /// <summary>A random token (S) replaced by every write of an alert's record: what a read-modify-write is conditional on.</summary>
    public const string Revision = "revision";

    /// <summary>When an alert was stored (N, UTC ticks), the alert indexes' sort key.</summary>
    public const string StoredAt = "stored_at";

    /// <summary>Present (S, <see cref="PendingValue"/>) only while some sink has not delivered the alert: a sparse index key.</summary>
    public const string Pending = "pending";

    /// <summary>The value of <see cref="Pending"/>.</summary>
    public const string PendingValue = "1";

    /// <summary>The same (S, <see cref="OutboxValue"/>) on every alert: one partition of the recent-alerts index.</summary>
    public const string Outbox = "outbox";

    /// <summary>The value of <see cref="Outbox"/>.</summary>
    public const string OutboxValue = "alerts";

    /// <summary>The alerts table's index of undelivered alerts: <see cref="Pending"/>, sort key <see cref="StoredAt"/>.</summary>
    public const string PendingAlertsIndex = "pending-stored_at";

    /// <summary>The alerts table's index of every alert by store time: <see cref="Outbox"/>, sort key <see cref="StoredAt"/>.</summary>
    public const string RecentAlertsIndex = "outbox-stored_at";
}
