namespace AgentGateway.Contracts.Sessions;

/// <summary>
/// Durable session state with optimistic concurrency: a write succeeds only if the stored version is the
/// one the writer read, so two nodes holding the same session cannot both count past a limit.
/// </summary>
public interface ISessionStore
{
    /// <summary>The stored state, or null when there is none.</summary>
    ValueTask<SessionState?> ReadAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="state"/> (whose <see cref="SessionState.Version"/> is the new version) if the
    /// stored version is still <paramref name="expectedVersion"/> (0: no item yet). False on a conflict.
    /// </summary>
    ValueTask<bool> TryWriteAsync(SessionState state, long expectedVersion, CancellationToken cancellationToken);
}
