namespace AgentGateway.Storage.DynamoDb;

/// <summary>The tables' attribute and index names (stored: never rename).</summary>
public static class DynamoSchema
{
    /// <summary>Every table's partition key (S): session id, model, alert message id.</summary>
    public const string Id = "id";

    /// <summary>The optimistic-concurrency version (N) of sessions and breakers.</summary>
    public const string Version = "version";

    /// <summary>The encoded state (B) of sessions and breakers (<see cref="StateCodec"/>).</summary>
    public const string State = "state";

    /// <summary>A session's status wire name (S: <c>active</c>, <c>tripped</c>, <c>ended</c>), the status index's key.</summary>
    public const string Status = "status";

    /// <summary>When DynamoDB may delete the item (N, Unix epoch seconds): the tables' TTL attribute.</summary>
    public const string ExpiresAt = "expires_at";

    /// <summary>The sessions table's index: partition key <see cref="Status"/>, sort key <see cref="Id"/>, keys only.</summary>
    public const string SessionsByStatusIndex = "status-id";

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
