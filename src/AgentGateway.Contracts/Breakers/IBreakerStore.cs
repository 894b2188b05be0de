namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// Durable breaker state with optimistic concurrency, as <see cref="Sessions.ISessionStore"/> for sessions: a write
/// succeeds only if the stored version is the one the writer read, so two nodes that change one model's breaker
/// cannot overwrite each other unseen; the loser reloads and applies its change again.
/// </summary>
public interface IBreakerStore
{
    /// <summary>The stored state of <paramref name="name"/>'s breaker, or null when there is none.</summary>
    ValueTask<BreakerState?> ReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="state"/> (whose <see cref="BreakerState.Version"/> is the new version) if the stored
    /// version is still <paramref name="expectedVersion"/> (0: no item yet). False on a conflict.
    /// </summary>
    ValueTask<bool> TryWriteAsync(BreakerState state, long expectedVersion, CancellationToken cancellationToken);
}
