using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Runtime;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Actors.Sessions;

/// <summary><see cref="ISessionService"/> over the in-process actor host: one <see cref="SessionActor"/> per session id.</summary>
public sealed class SessionService : ISessionService, IAsyncDisposable
{
    private readonly ActorHost<string, SessionActor> _host;

    public SessionService(
        ISessionStore store,
        GovernanceOptions governance,
        ActorHostOptions hostOptions,
        TimeProvider time,
        ILoggerFactory loggers,
        ISessionEventSink? events = null)
    {
        var log = new SessionActorLog(loggers.CreateLogger<SessionActor>(), events);
        _host = new ActorHost<string, SessionActor>(
            id => new SessionActor(id, store, governance, time, log),
            hostOptions,
            time,
            loggers.CreateLogger<ActorHost<string, SessionActor>>(),
            StringComparer.Ordinal);
    }

    /// <summary>The actor host, for diagnostics and tests.</summary>
    public ActorHost<string, SessionActor> Host => _host;

    public Task<Admission> AdmitAsync(string sessionId, TurnInfo turn, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, turn, static (actor, t, ct) => actor.AdmitAsync(t, ct), cancellationToken);

    public Task<TokenGrant> ChargeAsync(string sessionId, StreamCharge charge, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, charge, static (actor, c, ct) => actor.ChargeAsync(c, ct), cancellationToken);

    public void Settle(string sessionId, CallSettlement settlement)
        => _host.Tell(sessionId, settlement, static (actor, s) => actor.SettleAsync(s));

    public Task<SessionView?> GetAsync(string sessionId, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, false, static (actor, audit, ct) => actor.GetAsync(audit, ct), cancellationToken);

    public Task<SessionView?> GetDetailAsync(string sessionId, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, true, static (actor, audit, ct) => actor.GetAsync(audit, ct), cancellationToken);

    public Task<bool> ClaimAsync(string sessionId, string tenant, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, tenant, static (actor, t, ct) => actor.ClaimAsync(t, ct), cancellationToken);

    public Task<SessionActionResult> ResumeAsync(string sessionId, string? note, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, note, static (actor, n, ct) => actor.ResumeAsync(n, ct), cancellationToken);

    public Task<SessionActionResult> EndAsync(string sessionId, string? note, CancellationToken cancellationToken)
        => _host.AskAsync(sessionId, note, static (actor, n, ct) => actor.EndAsync(n, ct), cancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
