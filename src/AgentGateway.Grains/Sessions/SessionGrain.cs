using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Logging;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace AgentGateway.Grains.Sessions;

/// <summary>
/// One agent session: a thin adapter that runs its <see cref="SessionGovernor"/> one turn at a time and stores each
/// decision before it answers, so a model call is counted durably before it is made.
/// </summary>
/// <remarks>
/// <para>
/// Writes: an admission that counted or tripped (or claimed an unowned session), a stream cut-off that tripped, and an
/// operator action are written in their turn. Stream grants and settlements are not (a write per token would be the
/// hottest write of the gateway): they are written with the session's next decision, or when the grain deactivates.
/// A refusal of a tripped or ended session writes nothing, so a runaway agent hammering it costs no write.
/// </para>
/// <para>
/// A trip's alert is stored by the alert grain before this turn answers, so the fallback a client receives always has
/// its alert on record: a crash after the answer cannot lose it. When the alert grain cannot be reached (its silo just
/// died), the hand-off is retried on a timer and under a reminder until it is taken.
/// </para>
/// <para>
/// Single activation makes a lost write rare (another process writing the same store): then nothing was decided, the
/// answer says <c>Busy</c> and this activation is dropped, so the next call reads the stored state.
/// </para>
/// </remarks>
[PreferLocalPlacement]
public sealed partial class SessionGrain(
    [PersistentState("session", GrainStorageNames.Sessions)] IPersistentState<SessionState> stored,
    IOptions<GovernanceOptions> options,
    GrainActivations activations,
    TimeProvider time,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain, IRemindable
{
    /// <summary>The reminder a session holds while its trip's alert could not be handed to the alert grain.</summary>
    public const string AlertReminder = "trip-alert";

    private static readonly TimeSpan FirstAlertRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastAlertRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan AlertReminderPeriod = TimeSpan.FromMinutes(1);

    private SessionGovernor _governor = null!;
    private Action<string?>? _onConflict;

    // The trip whose alert the alert grain has not yet taken, and the timer that retries it.
    private SessionTripped? _unalerted;
    private IGrainTimer? _alertRetry;
    private TimeSpan _alertRetryDelay;

    // Grants and settlements moved the window since the last write.
    private bool _dirty;

    private string SessionId => _governor.SessionId;

    /// <summary>How long after its trip a session that activates checks that its trip's alert is in the outbox.</summary>
    public static readonly TimeSpan TripAlertLookback = TimeSpan.FromHours(1);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _governor = new SessionGovernor(this.GetPrimaryKeyString(), options.Value);
        activations.SessionActivated();
        if (!stored.RecordExists)
        {
            return;
        }

        _governor.Load(stored.State);

        // A process that stored a trip and died before its alert was stored left the trip unannounced: whichever
        // activation comes next makes sure of it (the alert's id comes from the trip, so an existing one is kept).
        var now = time.GetUtcNow();
        if (_governor is { Status: SessionStatus.Tripped, TrippedAt: { } trippedAt } && now - trippedAt < TripAlertLookback)
        {
            await AlertTripAsync(_governor.TripReason, null, trippedAt, recheck: true);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        activations.SessionDeactivated();
        if (_dirty && reason.ReasonCode != DeactivationReasonCode.ApplicationError)
        {
            await TryStoreAsync(time.GetUtcNow());
        }
    }

    public async Task<Admission> AdmitAsync(TurnInfo turn)
    {
        var now = time.GetUtcNow();
        var ownerBefore = _governor.Owner;
        var decision = _governor.TryAdmit(turn, now);
        if (!decision.Allowed && !decision.NewlyTripped && ReferenceEquals(ownerBefore, _governor.Owner))
        {
            return decision;
        }

        if (!await TryStoreAsync(now))
        {
            return Admission.Conflict();
        }

        if (decision.NewlyTripped)
        {
            await AlertTripAsync(decision.TripReason, turn.Model, now);
        }

        return decision;
    }

    public async Task<TokenGrant> ChargeAsync(StreamCharge charge)
    {
        var now = time.GetUtcNow();
        var grant = _governor.TryCharge(charge, now);
        if (!grant.NewlyTripped)
        {
            _dirty |= grant.Charged != 0;
            return grant;
        }

        // The cut-off tripped the session: stored before the stream is told to stop. A refused write leaves the chunk
        // unsent all the same (the stream stops); only the trip is not on record, and the next activation decides again.
        if (await TryStoreAsync(now))
        {
            await AlertTripAsync(grant.TripReason, charge.Model, now);
        }

        return grant;
    }

    public Task SettleAsync(CallSettlement settlement)
    {
        _governor.Settle(settlement, time.GetUtcNow());
        _dirty |= settlement.TotalTokens != settlement.ChargedTokens;
        return Task.CompletedTask;
    }

    public Task<SessionView?> GetAsync(bool withAudit) => Task.FromResult(
        stored.RecordExists ? _governor.ToView(Version, UpdatedAt, time.GetUtcNow(), withAudit) : null);

    public async Task<SessionClaim> ClaimAsync(string tenant)
    {
        switch (_governor.Claim(tenant))
        {
            case ClaimResult.Owned:
                return SessionClaim.Owned;
            case ClaimResult.Forbidden:
                return SessionClaim.Forbidden;
        }

        return await TryStoreAsync(time.GetUtcNow()) ? SessionClaim.Owned : SessionClaim.Busy;
    }

    public Task<SessionActionResult> ResumeAsync(string? note) =>
        OperateAsync(note, static (governor, n, now) => governor.Resume(n, now), resumed: true);

    public Task<SessionActionResult> EndAsync(string? note) =>
        OperateAsync(note, static (governor, n, now) => governor.End(n, now), resumed: false);

    private async Task<SessionActionResult> OperateAsync(
        string? note, Func<SessionGovernor, string?, DateTimeOffset, bool> act, bool resumed)
    {
        if (!stored.RecordExists)
        {
            return new SessionActionResult(SessionActionOutcome.NotFound, null);
        }

        var now = time.GetUtcNow();
        var wasTripped = _governor.Status == SessionStatus.Tripped;
        if (!act(_governor, note, now))
        {
            return new SessionActionResult(SessionActionOutcome.Ended, _governor.ToView(Version, UpdatedAt, now));
        }

        if (!await TryStoreAsync(now))
        {
            return new SessionActionResult(SessionActionOutcome.Busy, null);
        }

        if (!resumed)
        {
            LogEnded(SessionId);
        }
        else if (wasTripped)
        {
            LogResumed(SessionId);
        }

        return new SessionActionResult(SessionActionOutcome.Done, _governor.ToView(Version, UpdatedAt, now));
    }

    private long Version => stored.RecordExists ? stored.State.Version : 0;

    private DateTimeOffset? UpdatedAt => stored.RecordExists ? stored.State.UpdatedAt : null;

    /// <summary>Stores what the governor holds; false when the store refused it (this activation is then dropped).</summary>
    private Task<bool> TryStoreAsync(DateTimeOffset now)
    {
        // Clean from here on: a write that fails drops this activation (an application error, whose deactivation stores
        // nothing), so nothing this flag guards can be lost. Not an async method: one state machine less per decision.
        _dirty = false;
        return this.TryWriteAsync(stored, _governor.ToState(Version + 1, now), _onConflict ??= etag => LogWriteConflict(SessionId, etag));
    }

    /// <summary>
    /// The trip's alert, stored by the alert grain before this turn answers. Its failure (the alert grain's silo just
    /// died, say) is logged, never thrown: the trip is stored, so the hand-off is retried on a timer with backoff, and a
    /// reminder (in Redis in cluster mode) brings the session back to retry it should this silo die too.
    /// </summary>
    private async Task AlertTripAsync(TripReason reason, string? model, DateTimeOffset at, bool recheck = false)
    {
        var tripped = Trip(reason, model, at);
        if (!recheck)
        {
            LogTripped(SessionId, reason.ToWireName(), tripped.LoopCount, tripped.TokensInWindow);
        }

        if (!await TryHandOffAsync(tripped, recheck))
        {
            await RetryAlertLaterAsync(tripped);
        }
    }

    private async Task<bool> TryHandOffAsync(SessionTripped tripped, bool recheck)
    {
        var outbox = GrainFactory.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox);
        try
        {
            if (recheck)
            {
                await outbox.EnsureTripAlertedAsync(tripped);
            }
            else
            {
                await outbox.SessionTrippedAsync(tripped);
            }

            return true;
        }
        catch (Exception ex)
        {
            LogAlertFailed(SessionId, ex);
            return false;
        }
    }

    private async Task RetryAlertLaterAsync(SessionTripped tripped)
    {
        var first = _unalerted is null;
        _unalerted = tripped;
        if (first)
        {
            _alertRetryDelay = FirstAlertRetry;
            _alertRetry = this.RegisterGrainTimer(RetryAlertAsync, new GrainTimerCreationOptions(_alertRetryDelay, Timeout.InfiniteTimeSpan) { KeepAlive = true });
            try
            {
                await this.RegisterOrUpdateReminder(AlertReminder, AlertReminderPeriod, AlertReminderPeriod);
            }
            catch (Exception ex)
            {
                LogAlertFailed(SessionId, ex);
            }
        }
    }

    private async Task RetryAlertAsync(CancellationToken cancellationToken)
    {
        if (_unalerted is not { } tripped)
        {
            return;
        }

        if (await TryHandOffAsync(tripped, recheck: true))
        {
            await AlertHandedOffAsync();
            return;
        }

        _alertRetryDelay = TimeSpan.FromTicks(Math.Min(_alertRetryDelay.Ticks * 2, LastAlertRetry.Ticks));
        _alertRetry?.Change(_alertRetryDelay, Timeout.InfiniteTimeSpan);
    }

    private async Task AlertHandedOffAsync()
    {
        _unalerted = null;
        _alertRetry?.Dispose();
        _alertRetry = null;
        try
        {
            if (await this.GetReminder(AlertReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            LogAlertFailed(SessionId, ex);
        }
    }

    /// <summary>
    /// The reminder of a trip whose alert was not handed off: activating already re-checked it (<see cref="OnActivateAsync"/>);
    /// once it is handed off, the reminder goes.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != AlertReminder)
        {
            return;
        }

        // Activated by the reminder (this silo's predecessor died): re-checked here whatever the trip's age.
        var tripped = _unalerted ?? (_governor is { Status: SessionStatus.Tripped, TrippedAt: { } at } ? Trip(_governor.TripReason, null, at) : null);
        if (tripped is null || await TryHandOffAsync(tripped, recheck: true))
        {
            await AlertHandedOffAsync();
        }
    }

    private SessionTripped Trip(TripReason reason, string? model, DateTimeOffset at) =>
        new(SessionId, reason, _governor.LoopCount, _governor.TokensInWindow(at), at, _governor.Owner, model);

    [LoggerMessage(LogEvents.Sessions + 0, LogLevel.Warning, "Session {SessionId} tripped: {TripReason} (loops {LoopCount}, tokens in window {TokensInWindow})")]
    private partial void LogTripped(string sessionId, string? tripReason, int loopCount, long tokensInWindow);

    [LoggerMessage(LogEvents.Sessions + 1, LogLevel.Information, "Session {SessionId} resumed by an operator")]
    private partial void LogResumed(string sessionId);

    [LoggerMessage(LogEvents.Sessions + 2, LogLevel.Information, "Session {SessionId} ended by an operator")]
    private partial void LogEnded(string sessionId);

    [LoggerMessage(LogEvents.Sessions + 3, LogLevel.Warning, "Session {SessionId}: the store refused a write (now at version {Version}); this activation is dropped")]
    private partial void LogWriteConflict(string sessionId, string? version);

    [LoggerMessage(LogEvents.Sessions + 4, LogLevel.Error, "Session {SessionId}: its trip's alert could not be handed to the alert grain")]
    private partial void LogAlertFailed(string sessionId, Exception exception);
}
