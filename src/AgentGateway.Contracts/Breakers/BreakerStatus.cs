namespace AgentGateway.Contracts.Breakers;

/// <summary>Where a circuit breaker stands. The numbers are stored (<see cref="BreakerState"/>): never renumber.</summary>
public enum BreakerStatus
{
    /// <summary>Calls flow; their outcomes are counted.</summary>
    Closed = 0,

    /// <summary>Calls are refused until the break duration has elapsed.</summary>
    Open = 1,

    /// <summary>The break has elapsed: a few probe calls decide between closing and re-opening.</summary>
    HalfOpen = 2,

    /// <summary>Forced open by an operator: calls are refused until an operator closes it; time does not end it.</summary>
    Isolated = 3,
}

/// <summary>The stable wire names of <see cref="BreakerStatus"/> (admin API, logs, alerts).</summary>
public static class BreakerStatusNames
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half-open";
    public const string Isolated = "isolated";

    public static string ToWireName(this BreakerStatus status) => status switch
    {
        BreakerStatus.Closed => Closed,
        BreakerStatus.Open => Open,
        BreakerStatus.HalfOpen => HalfOpen,
        BreakerStatus.Isolated => Isolated,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown breaker status."),
    };
}
