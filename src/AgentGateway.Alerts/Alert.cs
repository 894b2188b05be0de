using System.Text.Json.Serialization;

namespace AgentGateway.Alerts;

/// <summary>What an alert is about. The wire names (<see cref="AlertKinds"/>) are stored and sent: never rename.</summary>
public static class AlertKinds
{
    public const string SessionTripped = "session_tripped";
    public const string BreakerOpened = "breaker_opened";
    public const string BreakerClosed = "breaker_closed";
}

/// <summary>
/// One alert as it is stored and published. <see cref="MessageId"/> is derived from what happened (not from when
/// or where it was composed), so the same event composed again — after a restart, on a retry — has the same id.
/// </summary>
/// <param name="MessageId">Stable id: 32 hex digits of SHA-256 over the event's identity.</param>
/// <param name="Key">The rate-limit key: <c>session:{id}</c> or <c>breaker:{model}</c>.</param>
/// <param name="Kind">One of <see cref="AlertKinds"/>.</param>
/// <param name="Severity"><c>critical</c> (trip, breaker opened) or <c>resolved</c> (breaker closed).</param>
/// <param name="Subject">A one-line subject (ASCII, at most 100 characters: SNS's limit).</param>
/// <param name="Text">The human text, e.g. <c>CRITICAL: Session ID [X] terminated due to loop limit</c>.</param>
/// <param name="Body">The structured body.</param>
public sealed record Alert(
    string MessageId,
    string Key,
    string Kind,
    string Severity,
    string Subject,
    string Text,
    AlertBody Body);

/// <summary>The structured part of an alert (JSON, snake_case on the wire).</summary>
/// <param name="SessionId">The session, for session alerts.</param>
/// <param name="Tenant">The tenant that owns the session (null for breaker alerts and unowned sessions).</param>
/// <param name="Reason">Trip reason (<c>loop_limit</c>, <c>token_velocity</c>) or the breaker transition's reason.</param>
/// <param name="LoopCount">Model calls in the task when the session tripped.</param>
/// <param name="TokensInWindow">Tokens in the velocity window when the session tripped.</param>
/// <param name="Model">The model: the breaker's; null for a session trip (the trip event does not carry it).</param>
/// <param name="BreakerState">The state the breaker entered, for breaker alerts.</param>
/// <param name="Node">The node that raised it: <c>machine:pid</c>.</param>
/// <param name="Time">When the event happened (the trip or transition time, by the node's clock).</param>
public sealed record AlertBody(
    [property: JsonPropertyName("session_id")] string? SessionId,
    [property: JsonPropertyName("tenant")] string? Tenant,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("loop_count")] int? LoopCount,
    [property: JsonPropertyName("tokens_in_window")] long? TokensInWindow,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("breaker_state")] string? BreakerState,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("time")] DateTimeOffset Time);
