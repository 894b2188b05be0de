using System.Text.Json;
using System.Text.Json.Serialization;
using AgentGateway.Contracts.Alerts;

namespace AgentGateway.Alerts.Outbox;

/// <summary>An alert in the outbox with its delivery to each sink. Owned by the alert grain (no locks); stores keep copies.</summary>
public sealed class AlertRecord
{
    [JsonPropertyName("alert")]
    public required Alert Alert { get; init; }

    /// <summary>When the alert was stored (the node's clock).</summary>
    [JsonPropertyName("stored_at")]
    public required DateTimeOffset StoredAt { get; init; }

    /// <summary>
    /// The node that raised the alert (null in records from before nodes were kept). It does not decide who delivers:
    /// the outbox grain delivers every undelivered alert it finds, whichever node raised it.
    /// </summary>
    [JsonPropertyName("node")]
    public string? Node { get; set; }

    [JsonPropertyName("deliveries")]
    public required List<SinkDelivery> Deliveries { get; init; }

    [JsonIgnore]
    public bool IsPending => Deliveries.Exists(static d => d.DeliveredAt is null);

    public SinkDelivery? Delivery(string sink) => Deliveries.Find(d => d.Sink == sink);

    /// <summary>The record as operators see it.</summary>
    public AlertView ToView() => new(
        Alert.MessageId, Alert.Kind, Alert.Severity, Alert.Text, Alert.Body, StoredAt, [.. Deliveries.Select(static d => d.ToView())]);

    /// <summary>A deep copy (what a store keeps: the grain's record changes after it is put).</summary>
    public AlertRecord Copy() => JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(this, AlertJson.Default.AlertRecord), AlertJson.Default.AlertRecord)!;
}

/// <summary>One sink's delivery of one alert.</summary>
public sealed class SinkDelivery
{
    [JsonPropertyName("sink")]
    public required string Sink { get; init; }

    [JsonPropertyName("attempts")]
    public int Attempts { get; set; }

    [JsonPropertyName("delivered_at")]
    public DateTimeOffset? DeliveredAt { get; set; }

    [JsonPropertyName("last_attempt_at")]
    public DateTimeOffset? LastAttemptAt { get; set; }

    [JsonPropertyName("last_error")]
    public string? LastError { get; set; }

    /// <summary>When the next attempt is due (the alert's store time at first).</summary>
    [JsonPropertyName("next_attempt_at")]
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>An attempt is running now (not stored: after a restart nothing is in flight).</summary>
    [JsonIgnore]
    public bool InFlight { get; set; }

    /// <summary>The delivery as operators see it: <c>delivered</c>, <c>publishing</c>, <c>retrying</c> (a failure before) or <c>pending</c>.</summary>
    public DeliveryView ToView()
    {
        var status = DeliveredAt is not null ? "delivered" : InFlight ? "publishing" : Attempts > 0 ? "retrying" : "pending";
        return new DeliveryView(Sink, status, Attempts, DeliveredAt, LastAttemptAt, DeliveredAt is null ? NextAttemptAt : null, LastError);
    }
}

/// <summary>Source-generated JSON for the outbox files and the wire bodies.</summary>
[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AlertRecord))]
[JsonSerializable(typeof(Alert))]
[JsonSerializable(typeof(AlertBody))]
public sealed partial class AlertJson : JsonSerializerContext;
