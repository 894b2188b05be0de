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
    // UTC ticks of the last write, 0: none (a long, not a DateTimeOffset? of 24 bytes: every idle session holds it).
    private long _updatedAt;

    private DateTimeOffset? UpdatedAt => _updatedAt == 0 ? null : new DateTimeOffset(_updatedAt, TimeSpan.Zero);

    public override async ValueTask OnActivateAsync(CancellationToken cancellationToken)
        => await ReloadAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask<Admission> AdmitAsync(TurnInfo turn, CancellationToken cancellationToken)
        => DecideAsync(turn, turn.Model, static (governor, t, now) => governor.TryAdmit(t, now), cancellationToken);

    /// <summary>Charges a streaming call's next tokens (a grant, or a refusal that trips the session).</summary>
    public ValueTask<TokenGrant> ChargeAsync(StreamCharge charge, CancellationToken cancellationToken)
        => DecideAsync(charge, charge.Model, static (governor, c, now) => governor.TryCharge(c, now), cancellationToken);

    /// <summary>
    /// One governance decision in this turn: decide, write, and on a lost race reload and decide again. A refusal
    /// of an already tripped session writes nothing (but rereads once, in case another node resumed it).
    /// </summary>
    private async ValueTask<TDecision> DecideAsync<TArg, TDecision>(
        TArg argument,
        string? model,
        Func<SessionGovernor, TArg, DateTimeOffset, TDecision> decide,
        CancellationToken cancellationToken)
        where TDecision : struct, IGovernanceDecision
    {
        await RefreshIfStaleAsync(cancellationToken).ConfigureAwait(false);
        var reloaded = false;
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var ownerBefore = _governor.Owner;
            var decision = decide(_governor, argument, now);
            // A refusal that claimed an unowned session must still be written (the claim is a decision too).
            if (!decision.Allowed && !decision.NewlyTripped && ReferenceEquals(ownerBefore, _governor.Owner))
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
                    log.Tripped(sessionId, decision.TripReason, _governor.LoopCount, _governor.TokensInWindow(now), now, _governor.Owner, model);
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

    public async ValueTask<SessionView?> GetAsync(bool withAudit, CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        return _stored.Version == 0 ? null : _governor.ToView(_stored.Version, UpdatedAt, time.GetUtcNow(), withAudit);
    }

    /// <summary>
    /// Makes <paramref name="tenant"/> the owner of an unowned session (written before answering; a lost race rereads
    /// and decides again, so two tenants can never both own it). True when the tenant owns the session.
    /// </summary>
    public async ValueTask<bool> ClaimAsync(string tenant, CancellationToken cancellationToken)
    {
        await RefreshIfStaleAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            // An owner never changes once written, so Owned and Forbidden need no reread.
            switch (_governor.Claim(tenant))
            {
                case ClaimResult.Owned:
                    return true;
                case ClaimResult.Forbidden:
                    return false;
            }

            if (await TryWriteAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }

        throw new SessionConflictException(sessionId, MaxWriteAttempts);
    }

    /// <summary>Operator action: clears a trip (not of an ended session), with the operator's note in the audit trail.</summary>
    public ValueTask<SessionActionResult> ResumeAsync(string? note, CancellationToken cancellationToken) =>
        OperateAsync(note, static (governor, n, now) => governor.Resume(n, now), SessionAuditDecision.Resumed, cancellationToken);

    /// <summary>Operator action: ends the session for good, with the operator's note in the audit trail.</summary>
    public ValueTask<SessionActionResult> EndAsync(string? note, CancellationToken cancellationToken) =>
        OperateAsync(note, static (governor, n, now) => governor.End(n, now), SessionAuditDecision.Ended, cancellationToken);

    private async ValueTask<SessionActionResult> OperateAsync(
        string? note,
        Func<SessionGovernor, string?, DateTimeOffset, bool> act,
        SessionAuditDecision action,
        CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        if (_stored.Version == 0)
        {
            return new SessionActionResult(SessionActionOutcome.NotFound, null);
        }

        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var wasTripped = _governor.Status == SessionStatus.Tripped;
            if (!act(_governor, note, now))
            {
                return new SessionActionResult(SessionActionOutcome.Ended, _governor.ToView(_stored.Version, UpdatedAt, now));
            }

            if (await TryWriteAsync(now, cancellationToken).ConfigureAwait(false))
            {
                if (action == SessionAuditDecision.Ended)
                {
                    log.Ended(sessionId);
                }
                else if (wasTripped)
                {
                    log.Resumed(sessionId, now);
                }

                return new SessionActionResult(SessionActionOutcome.Done, _governor.ToView(_stored.Version, UpdatedAt, now));
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
            _updatedAt = stored?.UpdatedAt.UtcTicks ?? 0;
        }

        return changed;
    }

    private async ValueTask<bool> TryWriteAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var written = await _stored.TryWriteAsync(_governor.ToState(_stored.Version + 1, now), cancellationToken).ConfigureAwait(false);
        if (written)
        {
            _updatedAt = now.UtcTicks;
        }

        return written;
    }

    private SessionState EmptyState() =>
        new(sessionId, 0, SessionStatus.Active, TripReason.None, null, 0, 0, 0, [], [], [], default);
}
