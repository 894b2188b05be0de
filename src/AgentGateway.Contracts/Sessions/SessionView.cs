using System.Text.Json.Serialization;

namespace AgentGateway.Contracts.Sessions;

/// <summary>A session's governance state as operators see it (the admin API's JSON).</summary>
/// <param name="Tenant">The owning tenant (null: none yet).</param>
/// <param name="Audit">The audit trail, oldest first: only in the admin detail (<c>GET /admin/sessions/{id}</c>).</param>
[GenerateSerializer, Immutable]
public sealed record SessionView(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string Status,
    [property: Id(2)] string? TripReason,
    [property: Id(3)] DateTimeOffset? TrippedAt,
    [property: Id(4)] int LoopCount,
    [property: Id(5)] int MaxLoops,
    [property: Id(6)] long ModelCalls,
    [property: Id(7)] long TokensInWindow,
    [property: Id(8)] long TokenBudget,
    [property: Id(9)] int WindowSeconds,
    [property: Id(10)] long Version,
    [property: Id(11)] DateTimeOffset? UpdatedAt,
    [property: Id(12)] string? Tenant = null,
    [property: Id(13), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SessionAuditView>? Audit = null);
