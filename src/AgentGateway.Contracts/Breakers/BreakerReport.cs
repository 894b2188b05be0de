namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// Outcomes of admitted calls on their way to the breaker grain: <paramref name="Count"/> calls that ended alike, admitted
/// under the same lease generation. A silo sends closed-state outcomes in order, runs of equal ones folded into one
/// report, so a batch stays a few entries long however many calls it carries; a probe's outcome is one report of its own.
/// </summary>
/// <param name="Epoch">The generation of the calls' leases.</param>
/// <param name="Ticket">The probe's ticket; 0 for closed-state calls.</param>
/// <param name="IsProbe">True: a half-open probe's outcome.</param>
/// <param name="StatusCode">How the calls ended, as an HTTP-like status (see <see cref="IModelBreakers.ReportAsync"/>).</param>
/// <param name="Duration">How long each call took (a slow success counts as a failure).</param>
/// <param name="Count">How many calls ended so, one after another.</param>
[GenerateSerializer, Immutable]
public readonly record struct BreakerReport(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long Ticket,
    [property: Id(2)] bool IsProbe,
    [property: Id(3)] int StatusCode,
    [property: Id(4)] TimeSpan Duration,
    [property: Id(5)] int Count);
