namespace AgentGateway.Contracts.Sessions;

/// <summary>What every governance decision says: allowed or not, and whether this decision tripped the session.</summary>
public interface IGovernanceDecision
{
    bool Allowed { get; }

    TripReason TripReason { get; }

    bool NewlyTripped { get; }
}

/// <summary>
/// A streaming call asks for more of the session's token budget before it passes on a chunk.
/// </summary>
/// <param name="Needed">Tokens the chunk in hand needs beyond what the stream still holds: refused below this.</param>
/// <param name="Wanted">Tokens the stream would like to hold (at least <paramref name="Needed"/>), so it need not ask per chunk.</param>
/// <param name="Model">The model streaming (named in a cut-off's alert; not part of the decision).</param>
[GenerateSerializer]
public readonly record struct StreamCharge([property: Id(0)] int Needed, [property: Id(1)] int Wanted, [property: Id(2)] string? Model = null);

/// <summary>The answer to a <see cref="StreamCharge"/>, decided in one turn of the session's grain.</summary>
/// <param name="Allowed">True: <paramref name="Granted"/> tokens were charged to the window and the chunk may go out.</param>
/// <param name="Granted">Tokens charged for the stream, from <c>Needed</c> to <c>Wanted</c>; 0 when refused.</param>
/// <param name="TripReason">Why the stream must stop; None when allowed.</param>
/// <param name="NewlyTripped">True only for the one charge that tripped the session (it charged the chunk's tokens).</param>
/// <param name="Charged">Tokens this decision added to the window (the grant, or the refused chunk's tokens when it tripped).</param>
[GenerateSerializer]
public readonly record struct TokenGrant([property: Id(0)] bool Allowed, [property: Id(1)] int Granted, [property: Id(2)] TripReason TripReason, [property: Id(3)] bool NewlyTripped, [property: Id(4)] int Charged)
    : IGovernanceDecision;
