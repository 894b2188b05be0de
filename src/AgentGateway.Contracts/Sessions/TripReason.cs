namespace AgentGateway.Contracts.Sessions;

/// <summary>Why governance stopped a session. The wire names are stable (headers, admin API, alerts).</summary>
public enum TripReason : byte
{
    None = 0,

    /// <summary>The task reached the loop limit: too many model calls since the human last spoke.</summary>
    LoopLimit = 1,

    /// <summary>Input plus output tokens in the sliding window reached the budget.</summary>
    TokenVelocity = 2,

    /// <summary>Not a trip: an operator ended the session, which refuses every call for good.</summary>
    SessionEnded = 3,
}

public static class TripReasonNames
{
    public const string LoopLimit = "loop_limit";
    public const string TokenVelocity = "token_velocity";
    public const string SessionEnded = "session_ended";

    public static string? ToWireName(this TripReason reason) => reason switch
    {
        TripReason.LoopLimit => LoopLimit,
        TripReason.TokenVelocity => TokenVelocity,
        TripReason.SessionEnded => SessionEnded,
        _ => null,
    };
}
