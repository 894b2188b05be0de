namespace AgentGateway.Providers.Models;

/// <summary>
/// Faults an operator sets on a simulated model at run time (for tests and demos), on top of the per-request
/// directives: a share of calls fail with a status, every call waits a latency, or every call stalls until
/// it is cancelled (a hung upstream).
/// </summary>
/// <param name="ErrorRate">Share of calls that fail, 0 to 1; spread evenly and deterministically (0.5: every second call).</param>
/// <param name="Status">The status failing calls fail with (400–599). Default 503.</param>
/// <param name="LatencyMilliseconds">Delay before every answer (0–600,000).</param>
/// <param name="Stall">True: every call waits until cancelled (the caller's timeout decides).</param>
public sealed record SimulatedFaults(double ErrorRate = 0, int Status = 503, int LatencyMilliseconds = 0, bool Stall = false)
{
    /// <summary>Every problem with these faults (empty when valid).</summary>
    public IEnumerable<string> Problems()
    {
        if (double.IsNaN(ErrorRate) || ErrorRate is < 0 or > 1)
        {
            yield return $"errorRate must be from 0 to 1 (was {ErrorRate}).";
        }

        if (Status is < 400 or > 599)
        {
            yield return $"status must be from 400 to 599 (was {Status}).";
        }

        if (LatencyMilliseconds is < 0 or > SimDirectives.MaxLatencyMilliseconds)
        {
            yield return $"latencyMilliseconds must be from 0 to {SimDirectives.MaxLatencyMilliseconds} (was {LatencyMilliseconds}).";
        }
    }

    /// <summary>Whether call number <paramref name="call"/> (1-based) fails: the calls that carry the rate over a whole number.</summary>
    public bool Fails(long call) =>
        ErrorRate >= 1 || (ErrorRate > 0 && Math.Floor(call * ErrorRate) > Math.Floor((call - 1) * ErrorRate));

    /// <summary>The request's directives with these faults added (a directive in the message wins).</summary>
    public SimDirectives Apply(SimDirectives directives, long call) => directives with
    {
        ErrorStatus = directives.ErrorStatus ?? (Fails(call) ? Status : null),
        LatencyMilliseconds = directives.LatencyMilliseconds ?? (LatencyMilliseconds > 0 ? LatencyMilliseconds : null),
        Stall = directives.Stall || Stall,
    };
}
