using AgentGateway.Contracts.Storage;

namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// Breakers' state, keyed by model (see <see cref="IVersionedStore{TState}"/>): two nodes that change one
/// model's breaker cannot overwrite each other unseen; the loser reloads and applies its change again.
/// </summary>
public interface IBreakerStore : IVersionedStore<BreakerState>;
