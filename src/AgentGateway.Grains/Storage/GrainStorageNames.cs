namespace AgentGateway.Grains.Storage;

/// <summary>The grain storage providers the grains name in <c>[PersistentState]</c>; the host registers one of each.</summary>
public static class GrainStorageNames
{
    /// <summary>Sessions' governance state (<see cref="Contracts.Sessions.SessionState"/>).</summary>
    public const string Sessions = "sessions";

    /// <summary>Breakers' shared state (<see cref="Contracts.Breakers.BreakerState"/>).</summary>
    public const string Breakers = "breakers";
}
