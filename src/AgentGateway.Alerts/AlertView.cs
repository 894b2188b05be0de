using AgentGateway.Alerts.Outbox;

namespace AgentGateway.Alerts;

/// <summary>An alert as <c>GET /admin/alerts</c> shows it (camelCase like the other admin views; <see cref="Body"/> is the published body, snake_case).</summary>
public sealed record AlertView(
    string MessageId,
    string Kind,
    string Severity,
    string Text,
    AlertBody Body,
    DateTimeOffset StoredAt,
    IReadOnlyList<DeliveryView> Deliveries)
{
    public static AlertView Of(AlertRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var a = record.Alert;
        return new AlertView(a.MessageId, a.Kind, a.Severity, a.Text, a.Body, record.StoredAt, record.Deliveries.Select(DeliveryView.Of).ToList());
    }
}

/// <summary>One sink's delivery: <c>status</c> is <c>delivered</c>, <c>publishing</c>, <c>retrying</c> (a failure before) or <c>pending</c>.</summary>
public sealed record DeliveryView(
    string Sink,
    string Status,
    int Attempts,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt,
    string? LastError)
{
    public static DeliveryView Of(SinkDelivery d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var status = d.DeliveredAt is not null ? "delivered" : d.InFlight ? "publishing" : d.Attempts > 0 ? "retrying" : "pending";
        return new DeliveryView(d.Sink, status, d.Attempts, d.DeliveredAt, d.LastAttemptAt, d.DeliveredAt is null ? d.NextAttemptAt : null, d.LastError);
    }
}
