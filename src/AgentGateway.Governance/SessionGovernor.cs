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
/// <para>Not thread-safe: one actor owns it. Time is passed in by the caller (the actor's TimeProvider).</para>
/// </remarks>
public sealed class SessionGovernor
{
    private readonly GovernanceOptions _options;
    private readonly RollingWindow<long> _tokens;
    private readonly Queue<ulong> _recentTasks;

    public SessionGovernor(string sessionId, GovernanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SessionId = sessionId;
        _options = options;
        _tokens = new RollingWindow<long>(options.Window, options.WindowBuckets);
        _recentTasks = new Queue<ulong>(options.RecentTasks);
    }

    public string SessionId { get; }

    public SessionStatus Status { get; private set; }

    public TripReason TripReason { get; private set; }

    public DateTimeOffset? TrippedAt { get; private set; }

    /// <summary>Model calls reserved for the current task.</summary>
    public int LoopCount { get; private set; }

    /// <summary>Model calls reserved over the session's life.</summary>
    public long ModelCalls { get; private set; }

    public ulong CurrentTask { get; private set; }

    public long TokensInWindow(DateTimeOffset now) => Math.Max(0, _tokens.Sum(now));

    /// <summary>Decides whether one model call may go ahead, and if so counts it, in one step.</summary>
    public Admission TryAdmit(in TurnInfo turn, DateTimeOffset now)
    {
        if (Status == SessionStatus.Tripped)
        {
            return Admission.Refused(TripReason, newlyTripped: false, LoopCount);
        }

        TrackTask(turn);

        if (LoopCount >= _options.MaxLoops)
        {
            return Trip(TripReason.LoopLimit, now);
        }

        if (TokensInWindow(now) >= _options.TokenBudget)
        {
            return Trip(TripReason.TokenVelocity, now);
        }

        LoopCount++;
        ModelCalls++;
        var reserved = Math.Max(0, turn.EstimatedInputTokens);
        _tokens.Add(now, reserved);
        return new Admission(true, TripReason.None, false, LoopCount, reserved);
    }

    /// <summary>
    /// Charges a streaming call's next tokens to the window, in one step: a grant of up to
    /// <see cref="StreamCharge.Wanted"/> tokens while the budget holds at least <see cref="StreamCharge.Needed"/>.
    /// A chunk that does not fit trips the session with <see cref="TripReason.TokenVelocity"/>: the model produced
    /// it, so its tokens are charged, but the stream must stop before it reaches the client.
    /// </summary>
    public TokenGrant TryCharge(in StreamCharge charge, DateTimeOffset now)
    {
        if (Status == SessionStatus.Tripped)
        {
            return new TokenGrant(false, 0, TripReason, false, 0);
        }

        var needed = Math.Max(0, charge.Needed);
        var available = _options.TokenBudget - TokensInWindow(now);
        if (needed > available)
        {
            _tokens.Add(now, needed);
            Trip(TripReason.TokenVelocity, now);
            return new TokenGrant(false, 0, TripReason.TokenVelocity, true, needed);
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

    /// <summary>Operator action: clears the trip; the task's loop count and the token window start afresh.</summary>
    public void Resume()
    {
        Status = SessionStatus.Active;
        TripReason = TripReason.None;
        TrippedAt = null;
        LoopCount = 0;
        _tokens.Clear();
    }

    public void Load(SessionState state)
    {
        Status = state.Status;
        TripReason = state.TripReason;
        TrippedAt = state.TrippedAt;
        LoopCount = state.LoopCount;
        ModelCalls = state.ModelCalls;
        CurrentTask = state.CurrentTask;
        _recentTasks.Clear();
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
            [.. _recentTasks],
            buckets,
            tokens,
            now);
    }

    public SessionView ToView(long version, DateTimeOffset? updatedAt, DateTimeOffset now) => new(
        SessionId,
        Status == SessionStatus.Tripped ? "tripped" : "active",
        TripReason.ToWireName(),
        TrippedAt,
        LoopCount,
        _options.MaxLoops,
        ModelCalls,
        TokensInWindow(now),
        _options.TokenBudget,
        (int)_options.Window.TotalSeconds,
        version,
        updatedAt);

    private void TrackTask(in TurnInfo turn)
    {
        if (turn.TaskFingerprint == 0 || _recentTasks.Contains(turn.TaskFingerprint))
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
        if (_recentTasks.Count == _options.RecentTasks)
        {
            _recentTasks.Dequeue();
        }

        _recentTasks.Enqueue(task);
    }

    private Admission Trip(TripReason reason, DateTimeOffset now)
    {
        Status = SessionStatus.Tripped;
        TripReason = reason;
        TrippedAt = now;
        return Admission.Refused(reason, newlyTripped: true, LoopCount);
    }
}
