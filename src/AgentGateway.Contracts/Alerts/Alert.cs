using System.Text.Json.Serialization;

namespace AgentGateway.Contracts.Alerts;

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
[GenerateSerializer, Immutable]
public sealed record Alert(
    [property: Id(0)] string MessageId,
    [property: Id(1)] string Key,
    [property: Id(2)] string Kind,
    [property: Id(3)] string Severity,
    [property: Id(4)] string Subject,
    [property: Id(5)] string Text,
    [property: Id(6)] AlertBody Body);

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
[GenerateSerializer, Immutable]
public sealed record AlertBody(
    [property: Id(0), JsonPropertyName("session_id")] string? SessionId,
    [property: Id(1), JsonPropertyName("tenant")] string? Tenant,
    [property: Id(2), JsonPropertyName("reason")] string Reason,
    [property: Id(3), JsonPropertyName("loop_count")] int? LoopCount,
    [property: Id(4), JsonPropertyName("tokens_in_window")] long? TokensInWindow,
    [property: Id(5), JsonPropertyName("model")] string? Model,
    [property: Id(6), JsonPropertyName("breaker_state")] string? BreakerState,
    [property: Id(7), JsonPropertyName("node")] string Node,
    [property: Id(8), JsonPropertyName("time")] DateTimeOffset Time);
