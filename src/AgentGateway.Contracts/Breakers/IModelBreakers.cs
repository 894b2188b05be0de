namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// Per-model circuit breakers as the front end sees them. <see cref="AcquireAsync"/> is the hot path: while a
/// breaker is closed it completes synchronously from the node's local view, with no actor message and no
/// allocation; only a half-open or just-elapsed breaker asks its actor for a probe. Outcomes are reported
/// one-way and never block the caller.
/// </summary>
public interface IModelBreakers
{
    /// <summary>May a call to <paramref name="model"/> go ahead now? An allowed lease must be reported once.</summary>
    ValueTask<BreakerLease> AcquireAsync(string model, CancellationToken cancellationToken);

    /// <summary>
    /// Reports an allowed call's outcome as an HTTP-like status (2xx success; 5xx, 408, 429 failure; other 4xx
    /// ignored) and its duration (a slow success counts as a failure). One-way.
    /// </summary>
    void Report(in BreakerLease lease, int statusCode, TimeSpan duration);

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
public readonly record struct BreakerLease(string Model, bool Allowed, bool IsProbe, long Epoch, long Ticket, DateTimeOffset? RetryAt);

/// <summary>A breaker as the admin API shows it.</summary>
public sealed record BreakerInfo(
    string Model,
    string State,
    double FailureRatio,
    int CallsInWindow,
    int FailuresInWindow,
    int ConsecutiveFailures,
    DateTimeOffset? NextHalfOpenAt,
    long OpenCount,
    double BreakSeconds,
    int ProbesInFlight,
    DateTimeOffset? ChangedAt,
    long Version);
