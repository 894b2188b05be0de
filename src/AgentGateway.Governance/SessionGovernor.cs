using AgentGateway.Contracts.Sessions;

namespace AgentGateway.Governance;

/// <summary>
/// The governance rules of one session: a loop counter per task and a token-velocity window, checked and
/// counted together so the decision for one model call is a single step with no await inside it.
/// </summary>
/// <remarks>
/// <para>
/// A model call is allowed only while the task's loop count is below <see cref="GovernanceOptions.MaxLoops"/>
/// and the tokens in the window are below <see cref="GovernanceOptions.TokenBudget"/>. Otherwise the session
/// trips and stays tripped, refusing every call, until <see cref="Resume"/>.
/// </para>
/// <para>
/// A task begins when the human speaks: the request's last message is a user message whose fingerprint
/// was not seen among the recent tasks. A continuation (a tool result) and a re-sent old history both count
/// against the current task. An allowed call reserves its estimated input tokens at once; the settlement
/// adds the difference to the real usage once the call ends.
/// </para>
/// <para>
/// A session belongs to the first tenant that uses it (<see cref="Owner"/>, never changed once set); another
/// tenant's call is refused with nothing counted. An operator may resume a tripped session or end any session; an
/// ended one refuses every call with <see cref="TripReason.SessionEnded"/> and cannot be resumed. Every admitted
/// call, every refusal that trips, and every operator action adds an entry to a bounded audit trail that is
/// stored with the state it describes.
/// </para>
/// <para>Not thread-safe: one session grain owns it. Time is passed in by the caller (the grain's TimeProvider).</para>
/// </remarks>
public sealed class SessionGovernor
{
    private readonly GovernanceOptions _options;
    private readonly RollingWindow<long> _tokens;

    // Recent task fingerprints, oldest first, in the first _recentTaskCount slots. Grows 4, 8, 16… up to RecentTasks:
    // most sessions hold few tasks, and an idle session keeps them. A plain array rather than a Queue<ulong> spares
    // every idle session the queue object (40 bytes).
    private ulong[] _recentTasks = [];
    private int _recentTaskCount;

    // The stored trail itself (immutable, shared with the SessionState it came from or went to): an idle session
    // holds one reference, not a copy; a new entry makes a new array.
    private SessionAuditEntry[] _audit = [];

    public SessionGovernor(string sessionId, GovernanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SessionId = sessionId;
        _options = options;
        _tokens = new RollingWindow<long>(options.Window, options.WindowBuckets);
    }

    public string SessionId { get; }

    public SessionStatus Status { get; private set; }

    public TripReason TripReason { get; private set; }

    // UTC ticks, 0 while not tripped: a long, not a DateTimeOffset? (24 bytes), because every idle session holds it.
    private long _trippedAt;

    public DateTimeOffset? TrippedAt => _trippedAt == 0 ? null : new DateTimeOffset(_trippedAt, TimeSpan.Zero);

    /// <summary>Model calls reserved for the current task.</summary>
    public int LoopCount { get; private set; }

    /// <summary>Model calls reserved over the session's life.</summary>
    public long ModelCalls { get; private set; }

    public ulong CurrentTask { get; private set; }

    /// <summary>The tenant that first used the session (null: none yet).</summary>
    public string? Owner { get; private set; }

    /// <summary>The audit trail, oldest first.</summary>
    public ReadOnlySpan<SessionAuditEntry> Audit => _audit;

    public long TokensInWindow(DateTimeOffset now) => Math.Max(0, _tokens.Sum(now));

    /// <summary>Decides whether one model call may go ahead, and if so counts it, in one step.</summary>
    /// <remarks>
    /// Ownership is checked first: another tenant learns nothing of the session's state. A tenant using an unowned
    /// session claims it here; the caller must write the state even when the call is refused.
    /// </remarks>
    public Admission TryAdmit(in TurnInfo turn, DateTimeOffset now)
    {
        if (Claim(turn.Tenant) == ClaimResult.Forbidden)
        {
            return Admission.NotOwner();
        }

        if (Status == SessionStatus.Ended)
        {
            return Admission.Refused(TripReason.SessionEnded, newlyTripped: false, LoopCount);
        }

        if (Status == SessionStatus.Tripped)
        {
            return Admission.Refused(TripReason, newlyTripped: false, LoopCount);
        }

        TrackTask(turn);
        var kind = turn.Kind == TurnKind.UserMessage ? SessionAuditKind.UserMessage : SessionAuditKind.Continuation;

        if (LoopCount >= _options.MaxLoops)
        {
            return Trip(TripReason.LoopLimit, kind, now);
        }

        if (TokensInWindow(now) >= _options.TokenBudget)
        {
            return Trip(TripReason.TokenVelocity, kind, now);
        }

        LoopCount++;
        ModelCalls++;
        var reserved = Math.Max(0, turn.EstimatedInputTokens);
        _tokens.Add(now, reserved);
        Record(kind, SessionAuditDecision.Admitted, TripReason.None, now);
        return new Admission(true, TripReason.None, false, LoopCount, reserved);
    }

    /// <summary>
    /// Makes <paramref name="tenant"/> the owner of an unowned session. A null tenant claims nothing and may use
    /// only unowned sessions.
    /// </summary>
    public ClaimResult Claim(string? tenant)
    {
        if (Owner is not null)
        {
            return string.Equals(Owner, tenant, StringComparison.Ordinal) ? ClaimResult.Owned : ClaimResult.Forbidden;
        }

        if (tenant is null)
        {
            return ClaimResult.Owned;
        }

        Owner = tenant;
        return ClaimResult.Claimed;
    }

    /// <summary>
    /// Charges an admitted streaming call's next tokens to the window, in one step: a grant of up to
    /// <see cref="StreamCharge.Wanted"/> tokens while the budget holds at least <see cref="StreamCharge.Needed"/>.
    /// A chunk that does not fit is refused with <see cref="TripReason.TokenVelocity"/>: the model produced it, so its
    /// tokens are charged, but the stream must stop before it reaches the client; an active session trips with it.
    /// </summary>
    /// <remarks>
    /// A call that was admitted runs to its end unless its own tokens cross the budget or an operator ended the
    /// session: a trip another request caused (the loop limit, a velocity trip) refuses new calls only, so it does
    /// not cut this stream off while the budget holds.
    /// </remarks>
    public TokenGrant TryCharge(in StreamCharge charge, DateTimeOffset now)
    {
        if (Status == SessionStatus.Ended)
        {
            return new TokenGrant(false, 0, TripReason.SessionEnded, false, 0);
        }

        var needed = Math.Max(0, charge.Needed);
        var available = _options.TokenBudget - TokensInWindow(now);
        if (needed > available)
        {
            _tokens.Add(now, needed);
            var newlyTripped = Status == SessionStatus.Active;
            if (newlyTripped)
            {
                Trip(TripReason.TokenVelocity, SessionAuditKind.Stream, now);
            }
            else
            {
                // Already tripped by another request: the cut-off is still a decision for the trail.
                Record(SessionAuditKind.Stream, SessionAuditDecision.Refused, TripReason.TokenVelocity, now);
            }

            return new TokenGrant(false, 0, TripReason.TokenVelocity, newlyTripped, needed);
        }

        var granted = (int)Math.Min(Math.Max(charge.Wanted, needed), available);
        if (granted > 0)
        {
            _tokens.Add(now, granted);
        }

        return new TokenGrant(true, granted, TripReason.None, false, granted);
    }

    /// <summary>Corrects the window by the difference between the call's real usage and what was charged for it.</summary>
    public void Settle(in CallSettlement settlement, DateTimeOffset now)
    {
        var delta = settlement.TotalTokens - settlement.ChargedTokens;
        if (delta != 0)
        {
            _tokens.Add(now, delta);
        }
    }

    /// <summary>
    /// Operator action: clears the trip; the task's loop count and the token window start afresh. False (nothing
    /// changed) when the session is ended.
    /// </summary>
    public bool Resume(string? note, DateTimeOffset now)
    {
        if (Status == SessionStatus.Ended)
        {
            return false;
        }

        Status = SessionStatus.Active;
        TripReason = TripReason.None;
        _trippedAt = 0;
        LoopCount = 0;
        _tokens.Clear();
        Record(SessionAuditKind.Operator, SessionAuditDecision.Resumed, TripReason.None, now, note);
        return true;
    }

    /// <summary>
    /// Operator action: ends the session for good (tripped or active); the trip reason it had is kept. False (nothing
    /// changed) when it is already ended.
    /// </summary>
    public bool End(string? note, DateTimeOffset now)
    {
        if (Status == SessionStatus.Ended)
        {
            return false;
        }

        Status = SessionStatus.Ended;
        Record(SessionAuditKind.Operator, SessionAuditDecision.Ended, TripReason, now, note);
        return true;
    }

    public void Load(SessionState state)
    {
        Owner = state.Owner;
        _audit = state.Audit ?? [];
        Status = state.Status;
        TripReason = state.TripReason;
        _trippedAt = state.TrippedAt?.UtcTicks ?? 0;
        LoopCount = state.LoopCount;
        ModelCalls = state.ModelCalls;
        CurrentTask = state.CurrentTask;
        _recentTaskCount = 0;
        foreach (var task in state.RecentTasks)
        {
            RememberTask(task);
        }

        _tokens.Import(state.WindowBuckets, state.WindowTokens);
    }

    public SessionState ToState(long version, DateTimeOffset now)
    {
        var (buckets, tokens) = _tokens.Export(now);
        return new SessionState(
            SessionId,
            version,
            Status,
            TripReason,
            TrippedAt,
            LoopCount,
            ModelCalls,
            CurrentTask,
            _recentTasks.AsSpan(0, _recentTaskCount).ToArray(),
            buckets,
            tokens,
            now,
            Owner,
            _audit.Length == 0 ? null : _audit);
    }

    /// <param name="withAudit">True: the view carries the audit trail (the admin detail).</param>
    public SessionView ToView(long version, DateTimeOffset? updatedAt, DateTimeOffset now, bool withAudit = false) => new(
        SessionId,
        Status.ToWireName(),
        TripReason.ToWireName(),
        TrippedAt,
        LoopCount,
        _options.MaxLoops,
        ModelCalls,
        TokensInWindow(now),
        _options.TokenBudget,
        (int)_options.Window.TotalSeconds,
        version,
        updatedAt,
        Owner,
        withAudit ? ToAuditViews(_audit) : null);

    /// <summary>The view of a stored state (for listings, which read the store rather than the grains).</summary>
    public static SessionView ViewOf(SessionState state, GovernanceOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        var governor = new SessionGovernor(state.SessionId, options);
        governor.Load(state);
        return governor.ToView(state.Version, state.UpdatedAt, now);
    }

    private static SessionAuditView[] ToAuditViews(SessionAuditEntry[] audit)
    {
        var views = new SessionAuditView[audit.Length];
        for (var i = 0; i < audit.Length; i++)
        {
            views[i] = SessionAuditView.Of(audit[i]);
        }

        return views;
    }

    /// <summary>Appends an entry to the trail (a new array: the old one may be shared with a stored state), dropping the oldest beyond the bound.</summary>
    private void Record(SessionAuditKind kind, SessionAuditDecision decision, TripReason reason, DateTimeOffset now, string? note = null)
    {
        var max = _options.AuditEntries;
        if (max == 0)
        {
            return;
        }

        var keep = Math.Min(_audit.Length, max - 1);
        var next = new SessionAuditEntry[keep + 1];
        Array.Copy(_audit, _audit.Length - keep, next, 0, keep);
        next[keep] = new SessionAuditEntry(now.UtcDateTime, kind, decision, reason, LoopCount, TokensInWindow(now), note);
        _audit = next;
    }

    private void TrackTask(in TurnInfo turn)
    {
        if (turn.TaskFingerprint == 0 || _recentTasks.AsSpan(0, _recentTaskCount).Contains(turn.TaskFingerprint))
        {
            return;
        }

        if (turn.Kind == TurnKind.UserMessage || CurrentTask == 0)
        {
            // The human spoke (or we first see this session mid-task): a new task with a fresh loop count.
            // A continuation of a task we never saw keeps counting against the current one.
            if (turn.Kind == TurnKind.UserMessage)
            {
                LoopCount = 0;
            }

            CurrentTask = turn.TaskFingerprint;
            RememberTask(turn.TaskFingerprint);
        }
    }

    private void RememberTask(ulong task)
    {
        var max = _options.RecentTasks;
        if (_recentTaskCount == max)
        {
            // Full: forget the oldest (a shift of at most RecentTasks - 1 slots, once per new task).
            Array.Copy(_recentTasks, 1, _recentTasks, 0, max - 1);
            _recentTaskCount--;
        }
        else if (_recentTaskCount == _recentTasks.Length)
        {
            Array.Resize(ref _recentTasks, Math.Min(max, Math.Max(4, _recentTasks.Length * 2)));
        }

        _recentTasks[_recentTaskCount++] = task;
    }

    private Admission Trip(TripReason reason, SessionAuditKind kind, DateTimeOffset now)
    {
        Status = SessionStatus.Tripped;
        TripReason = reason;
        _trippedAt = now.UtcTicks;
        Record(kind, SessionAuditDecision.Refused, reason, now);
        return Admission.Refused(reason, newlyTripped: true, LoopCount);
    }
}

/// <summary>What <see cref="SessionGovernor.Claim"/> found.</summary>
public enum ClaimResult
{
    /// <summary>The tenant already owned the session (or the session is unowned and the caller has no tenant).</summary>
    Owned,

    /// <summary>The session had no owner; now the tenant owns it (to be written).</summary>
    Claimed,

    /// <summary>Another tenant owns the session.</summary>
    Forbidden,
}
