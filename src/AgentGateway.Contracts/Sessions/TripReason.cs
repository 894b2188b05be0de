namespace AgentGateway.Contracts.Sessions;

/// <summary>Why governance stopped a session. The wire names are stable (headers, admin API, alerts).</summary>
public enum TripReason
{
    None = 0,

    /// <summary>The task reached the loop limit: too many model calls since the human last spoke.</summary>
    LoopLimit = 1,

    /// <summary>Input plus output tokens in the sliding window reached the budget.</summary>
    TokenVelocity = 2,
}

public static class TripReasonNames
{
    public const string LoopLimit = "loop_limit";
    public const string TokenVelocity = "token_velocity";

    public static string? ToWireName(this TripReason reason) => reason switch
    {
        TripReason.LoopLimit => LoopLimit,
        TripReason.TokenVelocity => TokenVelocity,
        _ => null,
    };
}
