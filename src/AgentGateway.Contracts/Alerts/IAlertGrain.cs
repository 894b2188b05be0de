using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using Orleans.Concurrency;

namespace AgentGateway.Contracts.Alerts;

/// <summary>
/// The alert outbox (key <see cref="AlertGrainKeys.Outbox"/>): turns governance events into alerts, stores each one
/// before any sink sees it, and publishes them to every sink (log, Slack, SNS) on a timer, retrying failures with
/// backoff. Dedupes by alert id and rate-limits per key. Publishing never runs inside its turns, so a slow sink never
/// holds up a caller.
/// </summary>
public interface IAlertGrain : IGrainWithStringKey
{
    /// <summary>
    /// A session tripped: its alert is stored (or found stored already) before this completes, so the caller may
    /// answer the trip knowing the alert will be delivered even if the process dies next.
    /// </summary>
    Task SessionTrippedAsync(SessionTripped tripped);

    /// <summary>
    /// A session found tripped as it activated: its trip's alert is raised unless it is already in the outbox (same
    /// message id), with no rate limit and nothing counted when it is. This closes the gap of a process that died after
    /// storing a trip and before storing its alert.
    /// </summary>
    Task EnsureTripAlertedAsync(SessionTripped tripped);

    /// <summary>A breaker changed state (opened, isolated, closed: the others page nobody). One-way.</summary>
    [OneWay]
    Task BreakerTransitionedAsync(string model, BreakerTransition transition);

    /// <summary>The recent alerts, newest first, with each sink's delivery.</summary>
    [ReadOnly]
    Task<IReadOnlyList<AlertView>> ListAsync();

    /// <summary>Loads the outbox and starts delivering what a previous run left pending (called at start).</summary>
    Task RecoverAsync();
}

/// <summary>The alert grain's keys.</summary>
public static class AlertGrainKeys
{
    /// <summary>The one outbox of the silo's alerts.</summary>
    public const string Outbox = "outbox";
}
