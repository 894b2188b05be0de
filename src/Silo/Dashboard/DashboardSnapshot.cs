using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Silo.Dashboard;

/// <summary>
/// What the dashboard shows at one moment (the <c>data</c> of a <c>snapshot</c> event of <c>GET /admin/events</c>).
/// <see cref="At"/> is when it was taken; two snapshots are compared without it, so time alone sends nothing new.
/// </summary>
public sealed record DashboardSnapshot(
    DateTimeOffset At,
    IReadOnlyList<DashboardSession> Sessions,
    IReadOnlyList<BreakerInfo> Breakers,
    IReadOnlyList<DashboardAlert> Alerts,
    IReadOnlyList<DashboardNode> Nodes,
    DashboardLimits Limits);

/// <summary>
/// A session as the dashboard lists it. <see cref="Velocity"/> is the tokens counted in each bucket of the session's
/// token window (oldest first, the current bucket last; <see cref="DashboardLimits.BucketSeconds"/> wide), read from
/// the stored window: the sparkline of its token velocity.
/// </summary>
public sealed record DashboardSession(
    string SessionId,
    string Status,
    string? TripReason,
    DateTimeOffset? TrippedAt,
    int LoopCount,
    int MaxLoops,
    long TokensInWindow,
    long TokenBudget,
    string? Tenant,
    DateTimeOffset? UpdatedAt,
    IReadOnlyList<long> Velocity);

/// <summary>A recent alert with each sink's delivery status (<c>delivered</c>, <c>publishing</c>, <c>retrying</c>, <c>pending</c>).</summary>
public sealed record DashboardAlert(
    string MessageId,
    string Kind,
    string Severity,
    string Text,
    DateTimeOffset StoredAt,
    IReadOnlyList<DashboardDelivery> Deliveries);

public sealed record DashboardDelivery(string Sink, string Status, int Attempts, string? LastError);

/// <summary>A node (today: the one serving the feed) and what it holds.</summary>
public sealed record DashboardNode(string Node, int? SessionActivations, int Conversations, int Sockets);

/// <summary>The limits the numbers are read against, and whether sessions beyond the first <see cref="MaxSessions"/> were left out of the list.</summary>
public sealed record DashboardLimits(int MaxSessions, bool SessionsTruncated, int WindowSeconds, double BucketSeconds);
