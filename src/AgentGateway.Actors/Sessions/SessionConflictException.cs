namespace AgentGateway.Actors.Sessions;

/// <summary>Every write attempt of one turn lost an optimistic-concurrency race (heavy cross-node contention).</summary>
public sealed class SessionConflictException(string sessionId, int attempts)
    : Exception($"Session '{sessionId}' could not be written after {attempts} attempts: other nodes kept writing it.")
{
    public string SessionId { get; } = sessionId;
}
