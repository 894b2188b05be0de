using AgentGateway.Contracts.Sessions;

namespace AgentGateway.Providers.Storage;

/// <summary>The embedded default session store (see <see cref="InMemoryVersionedStore{TState}"/>).</summary>
public sealed class InMemorySessionStore : InMemoryVersionedStore<SessionState>, ISessionStore
{
    protected override string KeyOf(SessionState state) => state.SessionId;

    protected override long VersionOf(SessionState state) => state.Version;
}
