using AgentGateway.Contracts.Storage;

namespace AgentGateway.Contracts.Sessions;

/// <summary>Sessions' governance state, keyed by session id (see <see cref="IVersionedStore{TState}"/>).</summary>
public interface ISessionStore : IVersionedStore<SessionState>;
