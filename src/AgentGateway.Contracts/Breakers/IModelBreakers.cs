namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// Per-model circuit breakers as the front end sees them. <see cref="AcquireAsync"/> is the hot path: while a
/// breaker is closed it completes synchronously from the silo's local view, with no grain call and no allocation;
/// only a half-open or just-elapsed breaker asks its grain for a probe. Outcomes are reported in batches: a success
/// costs the caller nothing, a failure waits until the breaker has counted it.
/// </summary>
public interface IModelBreakers
{
    /// <summary>May a call to <paramref name="model"/> go ahead now? An allowed lease must be reported once.</summary>
    ValueTask<BreakerLease> AcquireAsync(string model, CancellationToken cancellationToken);

    /// <summary>
    /// Reports an allowed call's outcome as an HTTP-like status (2xx success; 5xx, 408, 429 failure; other 4xx
    /// ignored) and its duration (a slow success counts as a failure). A success completes at once (it is counted with
    /// the next batch); a failure or slow call completes once the breaker has counted it, so the request that saw it
    /// answers only after the breaker could open. Never throws.
    /// </summary>
    ValueTask ReportAsync(BreakerLease lease, int statusCode, TimeSpan duration);

    Task<IReadOnlyList<BreakerInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The breaker of a served model, or null when the model is not served.</summary>
    Task<BreakerInfo?> GetAsync(string model, CancellationToken cancellationToken);

    /// <summary>Operator: force open until closed. Null when the model is not served.</summary>
    Task<BreakerInfo?> IsolateAsync(string model, CancellationToken cancellationToken);

    /// <summary>Operator: force closed with fresh counts. Null when the model is not served.</summary>
    Task<BreakerInfo?> CloseAsync(string model, CancellationToken cancellationToken);

    /// <summary>Operator: back to a new breaker (closed, open count 0). Null when the model is not served.</summary>
    Task<BreakerInfo?> ResetAsync(string model, CancellationToken cancellationToken);
}

/// <summary>The answer of <see cref="IModelBreakers.AcquireAsync"/>; carries what the breaker needs to match the outcome.</summary>
/// <param name="Model">The breaker's model.</param>
/// <param name="Allowed">True: the call may go ahead.</param>
/// <param name="IsProbe">True: a half-open probe.</param>
/// <param name="Epoch">The breaker's state generation the lease belongs to.</param>
/// <param name="Ticket">Identifies a probe (0 for a closed-state call).</param>
/// <param name="RetryAt">When refused by an open breaker: when it will admit a probe.</param>
[GenerateSerializer, Immutable]
public readonly record struct BreakerLease([property: Id(0)] string Model, [property: Id(1)] bool Allowed, [property: Id(2)] bool IsProbe, [property: Id(3)] long Epoch, [property: Id(4)] long Ticket, [property: Id(5)] DateTimeOffset? RetryAt);

/// <summary>A breaker as the admin API shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record BreakerInfo(
    [property: Id(0)] string Model,
    [property: Id(1)] string State,
    [property: Id(2)] double FailureRatio,
    [property: Id(3)] int CallsInWindow,
    [property: Id(4)] int FailuresInWindow,
    [property: Id(5)] int ConsecutiveFailures,
    [property: Id(6)] DateTimeOffset? NextHalfOpenAt,
    [property: Id(7)] long OpenCount,
    [property: Id(8)] double BreakSeconds,
    [property: Id(9)] int ProbesInFlight,
    [property: Id(10)] DateTimeOffset? ChangedAt,
    [property: Id(11)] long Version);
