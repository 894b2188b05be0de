namespace AgentGateway.Contracts.Sessions;

/// <summary>The answer to "may this session call a model now?", decided in one turn of the session's grain.</summary>
/// <param name="Allowed">True: the call is reserved (counted) and may go ahead.</param>
/// <param name="TripReason">Why the call was refused; <see cref="Sessions.TripReason.None"/> when allowed.</param>
/// <param name="NewlyTripped">True only for the one request whose check tripped the session.</param>
/// <param name="LoopCount">Model calls in the current task, this one included when allowed.</param>
/// <param name="ReservedInputTokens">Tokens reserved for the call, to be corrected by the settlement.</param>
/// <param name="Forbidden">True: the session belongs to another tenant; nothing was counted or changed.</param>
/// <param name="Busy">
/// True: the session's store refused the write (another writer moved it on); nothing was decided or counted and the
/// caller may retry at once (a new activation reads the stored state).
/// </param>
[GenerateSerializer]
public readonly record struct Admission(
    [property: Id(0)] bool Allowed,
    [property: Id(1)] TripReason TripReason,
    [property: Id(2)] bool NewlyTripped,
    [property: Id(3)] int LoopCount,
    [property: Id(4)] int ReservedInputTokens,
    [property: Id(5)] bool Forbidden = false,
    [property: Id(6)] bool Busy = false) : IGovernanceDecision
{
    public static Admission Refused(TripReason reason, bool newlyTripped, int loopCount) =>
        new(false, reason, newlyTripped, loopCount, 0);

    /// <summary>The session belongs to another tenant (its loop count is not disclosed).</summary>
    public static Admission NotOwner() => new(false, TripReason.None, false, 0, 0, Forbidden: true);

    /// <summary>The decision could not be stored; nothing was counted.</summary>
    public static Admission Conflict() => new(false, TripReason.None, false, 0, 0, Busy: true);
}

/// <summary>What a model call really used, reported after it ends (successfully or not).</summary>
/// <param name="ChargedTokens">
/// Everything already charged to the window for this call: the input reservation plus any stream grants.
/// The settlement adds the difference between the real usage and this.
/// </param>
/// <param name="InputTokens">Real (or, when unknown, estimated) input tokens.</param>
/// <param name="OutputTokens">Real (or counted) output tokens.</param>
[GenerateSerializer]
public readonly record struct CallSettlement([property: Id(0)] long ChargedTokens, [property: Id(1)] long InputTokens, [property: Id(2)] long OutputTokens)
{
    public long TotalTokens => InputTokens + OutputTokens;
}
