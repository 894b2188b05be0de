namespace AgentGateway.Contracts.Alerts;

/// <summary>An alert as <c>GET /admin/alerts</c> shows it (camelCase like the other admin views; <see cref="Body"/> is the published body, snake_case).</summary>
[GenerateSerializer, Immutable]
public sealed record AlertView(
    [property: Id(0)] string MessageId,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Severity,
    [property: Id(3)] string Text,
    [property: Id(4)] AlertBody Body,
    [property: Id(5)] DateTimeOffset StoredAt,
    [property: Id(6)] IReadOnlyList<DeliveryView> Deliveries);

/// <summary>One sink's delivery: <c>status</c> is <c>delivered</c>, <c>publishing</c>, <c>retrying</c> (a failure before) or <c>pending</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryView(
    [property: Id(0)] string Sink,
    [property: Id(1)] string Status,
    [property: Id(2)] int Attempts,
    [property: Id(3)] DateTimeOffset? DeliveredAt,
    [property: Id(4)] DateTimeOffset? LastAttemptAt,
    [property: Id(5)] DateTimeOffset? NextAttemptAt,
    [property: Id(6)] string? LastError);
