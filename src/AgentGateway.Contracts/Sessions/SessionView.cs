using System.Text.Json.Serialization;

namespace AgentGateway.Contracts.Sessions;

/// <summary>A session's governance state as operators see it (the admin API's JSON).</summary>
/// <param name="Tenant">The owning tenant (null: none yet).</param>
/// <param name="Audit">The audit trail, oldest first: only in the admin detail (<c>GET /admin/sessions/{id}</c>).</param>
public sealed record SessionView(
    string SessionId,
    string Status,
    string? TripReason,
    DateTimeOffset? TrippedAt,
    int LoopCount,
    int MaxLoops,
    long ModelCalls,
    long TokensInWindow,
    long TokenBudget,
    int WindowSeconds,
    long Version,
    DateTimeOffset? UpdatedAt,
    string? Tenant = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SessionAuditView>? Audit = null);
