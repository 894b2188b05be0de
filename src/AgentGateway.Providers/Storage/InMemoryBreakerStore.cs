using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Providers.Storage;

/// <summary>The embedded default breaker store (see <see cref="InMemoryVersionedStore{TState}"/>).</summary>
public sealed class InMemoryBreakerStore : InMemoryVersionedStore<BreakerState>, IBreakerStore
{
    protected override string KeyOf(BreakerState state) => state.Name;

    protected override long VersionOf(BreakerState state) => state.Version;
}
