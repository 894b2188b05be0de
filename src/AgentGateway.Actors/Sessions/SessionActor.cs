using AgentGateway.Actors.Storage;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Runtime;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Actors.Sessions;

/// <summary>
/// One agent session: holds its <see cref="SessionGovernor"/> in memory and writes every decision to the
/// store before answering, so a model call is counted durably before it is made.
/// </summary>
/// <remarks>
/// Each method runs as one turn. A write that loses an optimistic-concurrency race (another node wrote
/// the same session) reloads the stored state and decides again inside the same turn, so correctness never
/// depends on requests for a session reaching a single node.
/// </remarks>
public sealed class SessionActor(
    string sessionId,
    ISessionStore store,
    GovernanceOptions options,
    TimeProvider time,
    SessionActorLog log) : Actor
{
    /// <summary>Write attempts per turn before giving up with <see cref="SessionConflictException"/>.</summary>
    public const int MaxWriteAttempts = 8;

    private readonly SessionGovernor _governor = new(sessionId, options);
    private readonly StoredVersion<SessionState> _stored = new(store, sessionId, static s => s.Version, log.WriteConflictCallback);
    private DateTimeOffset? _updatedAt;

    public override async ValueTask OnActivateAsync(CancellationToken cancellationToken)
        => await ReloadAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask<Admission> AdmitAsync(TurnInfo turn, CancellationToken cancellationToken)
        => DecideAsync(turn, static (governor, t, now) => governor.TryAdmit(t, now), cancellationToken);

    /// <summary>Charges a streaming call's next tokens (a grant, or a refusal that trips the session).</summary>
    public ValueTask<TokenGrant> ChargeAsync(StreamCharge charge, CancellationToken cancellationToken)
        => DecideAsync(charge, static (governor, c, now) => governor.TryCharge(c, now), cancellationToken);

    /// <summary>
    /// One governance decision in this turn: decide, write, and on a lost race reload and decide again. A refusal
    /// of an already tripped session writes nothing (but rereads once, in case another node resumed it).
    /// </summary>
    private async ValueTask<TDecision> DecideAsync<TArg, TDecision>(
        TArg argument,
        Func<SessionGovernor, TArg, DateTimeOffset, TDecision> decide,
        CancellationToken cancellationToken)
        where TDecision : struct, IGovernanceDecision
    {
        await RefreshIfStaleAsync(cancellationToken).ConfigureAwait(false);
        var reloaded = false;
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var decision = decide(_governor, argument, now);
            if (!decision.Allowed && !decision.NewlyTripped)
            {
                // Already tripped: nothing to write. Another node may have resumed it since we read it.
                if (!reloaded && _stored.Version > 0 && await ReloadAsync(cancellationToken).ConfigureAwait(false))
                {
                    reloaded = true;
                    continue;
                }

                return decision;
            }

            if (await TryWriteAsync(now, cancellationToken).ConfigureAwait(false))
            {
                if (decision.NewlyTripped)
                {
                    log.Tripped(sessionId, decision.TripReason, _governor.LoopCount, _governor.TokensInWindow(now), now);
                }

                return decision;
            }

            reloaded = await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }

        throw new SessionConflictException(sessionId, MaxWriteAttempts);
    }

    public async ValueTask SettleAsync(CallSettlement settlement)
    {
        await RefreshIfStaleAsync(CancellationToken.None).ConfigureAwait(false);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            _governor.Settle(settlement, now);
            if (await TryWriteAsync(now, CancellationToken.None).ConfigureAwait(false))
            {
                return;
            }

            await ReloadAsync(CancellationToken.None).ConfigureAwait(false);
        }

        throw new SessionConflictException(sessionId, MaxWriteAttempts);
    }

    public async ValueTask<SessionView?> GetAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        return _stored.Version == 0 ? null : _governor.ToView(_stored.Version, _updatedAt, time.GetUtcNow());
    }

    public async ValueTask<SessionView?> ResumeAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (_stored.Version == 0)
        {
            return null;
        }

        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var wasTripped = _governor.Status == SessionStatus.Tripped;
            _governor.Resume();
            if (await TryWriteAsync(now, cancellationToken).ConfigureAwait(false))
            {
                if (wasTripped)
                {
                    log.Resumed(sessionId, now);
                }

                return _governor.ToView(_stored.Version, _updatedAt, now);
            }

            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }

        throw new SessionConflictException(sessionId, MaxWriteAttempts);
    }

    private async ValueTask RefreshIfStaleAsync(CancellationToken cancellationToken)
    {
        if (_stored.IsStale)
        {
            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the stored state; true when it differed from what this activation held (then it is loaded).</summary>
    private async ValueTask<bool> ReloadAsync(CancellationToken cancellationToken)
    {
        var (changed, stored) = await _stored.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            // Nothing stored but something held: only after a failed write; start clean.
            _governor.Load(stored ?? EmptyState());
            _updatedAt = stored?.UpdatedAt;
        }

        return changed;
    }

    private async ValueTask<bool> TryWriteAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var written = await _stored.TryWriteAsync(_governor.ToState(_stored.Version + 1, now), cancellationToken).ConfigureAwait(false);
        if (written)
        {
            _updatedAt = now;
        }

        return written;
    }

    private SessionState EmptyState() =>
        new(sessionId, 0, SessionStatus.Active, TripReason.None, null, 0, 0, 0, [], [], [], default);
}
