namespace AgentGateway.Contracts.Sessions;

/// <summary>The answer to "may this session call a model now?", decided in one actor turn.</summary>
/// <param name="Allowed">True: the call is reserved (counted) and may go ahead.</param>
/// <param name="TripReason">Why the call was refused; <see cref="Sessions.TripReason.None"/> when allowed.</param>
/// <param name="NewlyTripped">True only for the one request whose check tripped the session.</param>
/// <param name="LoopCount">Model calls in the current task, this one included when allowed.</param>
/// <param name="ReservedInputTokens">Tokens reserved for the call, to be corrected by the settlement.</param>
/// <param name="Forbidden">True: the session belongs to another tenant; nothing was counted or changed.</param>
public readonly record struct Admission(
    bool Allowed,
    TripReason TripReason,
    bool NewlyTripped,
    int LoopCount,
    int ReservedInputTokens,
    bool Forbidden = false) : IGovernanceDecision
{
    public static Admission Refused(TripReason reason, bool newlyTripped, int loopCount) =>
        new(false, reason, newlyTripped, loopCount, 0);

    /// <summary>The session belongs to another tenant (its loop count is not disclosed).</summary>
    public static Admission NotOwner() => new(false, TripReason.None, false, 0, 0, Forbidden: true);
}

/// <summary>What a model call really used, reported after it ends (successfully or not).</summary>
/// <param name="ChargedTokens">
/// Everything already charged to the window for this call: the input reservation plus any stream grants.
/// The settlement adds the difference between the real usage and this.
/// </param>
/// <param name="InputTokens">Real (or, when unknown, estimated) input tokens.</param>
/// <param name="OutputTokens">Real (or counted) output tokens.</param>
public readonly record struct CallSettlement(long ChargedTokens, long InputTokens, long OutputTokens)
{
    public long TotalTokens => InputTokens + OutputTokens;
}
