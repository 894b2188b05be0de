using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Governance.Breakers;

/// <summary>
/// The circuit breaker of one model: it admits or refuses calls, counts their outcomes and moves between
/// closed, open, half-open and isolated. It owns the state and the transitions; the decision to break is its
/// behaviour's, the counting its health metrics'.
/// </summary>
/// <remarks>
/// <para>
/// Closed: every call is admitted and its outcome counted in a sliding window of
/// <see cref="BreakerOptions.SamplingDuration"/> kept in <see cref="BreakerOptions.SamplingBuckets"/> buckets
/// (see <see cref="RollingWindow{T}"/>: a count leaves the window up to one bucket early). A success that took
/// longer than <see cref="BreakerOptions.SlowCallThreshold"/> counts as a failure; a client error counts as
/// nothing, and neither breaks nor resets the run of consecutive failures. After each failure the breaker opens
/// if <see cref="BreakerOptions.ConsecutiveFailureThreshold"/> failures came in a row, or if the window holds at
/// least <see cref="BreakerOptions.MinimumThroughput"/> counted calls of which the failures make at least
/// <see cref="BreakerOptions.FailureRatio"/> (the consecutive rule is reported when both hold).
/// </para>
/// <para>
/// Open: calls are refused until the break has elapsed (<c>now &gt;= NextHalfOpenAt</c>); the first caller after
/// that moves the breaker to half-open and gets a probe. Opening from closed serves
/// <see cref="BreakerOptions.BreakDuration"/>; each re-open from half-open doubles the break, up to
/// <see cref="BreakerOptions.MaxBreakDuration"/>; closing returns it to the start.
/// </para>
/// <para>
/// Half-open: at most <see cref="BreakerOptions.HalfOpenMaxProbes"/> probes are out at a time; the first probe
/// to succeed closes the breaker (with an empty window), the first to fail or be slow re-opens it, and an
/// ignored client error only frees its slot. A probe out for longer than
/// <see cref="BreakerOptions.EffectiveProbeTimeout"/> counts as a failure: the breaker re-opens as of the
/// moment it timed out, so a hung probe cannot hold it half-open. Timeouts are noticed lazily, on the next
/// <see cref="TryAcquire"/> or <see cref="OnOutcome"/>.
/// </para>
/// <para>
/// Isolated (operator): everything is refused and time does not end it; only <see cref="Close"/> or
/// <see cref="Reset"/> does. Every state change starts a new generation: an outcome reported with a permit from
/// an earlier generation (a call that outlived a break, a timed-out probe, a second report) is not counted.
/// </para>
/// <para>
/// Transitions are queued for the owner to read with <see cref="DrainTransitions"/> after the call that caused
/// them, so logging and alerting happen after the state change and never inside it.
/// </para>
/// <para>Not thread-safe: one breaker grain owns it. Time is passed in by the caller (the grain's TimeProvider).</para>
/// </remarks>
public sealed class CircuitBreaker
{
    private readonly BreakerOptions _options;
    private readonly BreakerBehavior _behavior;
    private readonly List<(long Ticket, DateTimeOffset AcquiredAt)> _probes = [];
    private readonly List<BreakerTransition> _transitions = [];
    private long _epoch;
    private long _lastTicket;

    public CircuitBreaker(string name, BreakerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        _options = options;
        _behavior = new BreakerBehavior(options);
        BreakDuration = options.BreakDuration;
    }

    /// <summary>The breaker's key (e.g. the model id).</summary>
    public string Name { get; }

    public BreakerStatus Status { get; private set; }

    /// <summary>The break being served while open, or the one the next open from closed will serve.</summary>
    public TimeSpan BreakDuration { get; private set; }

    /// <summary>While open: when the next caller gets a probe. Null in every other state.</summary>
    public DateTimeOffset? NextHalfOpenAt { get; private set; }

    /// <summary>Times opened (re-opens included) since made or <see cref="Reset"/>.</summary>
    public long OpenCount { get; private set; }

    /// <summary>When the state last changed; null if it never did.</summary>
    public DateTimeOffset? ChangedAt { get; private set; }

    /// <summary>
    /// The current generation: it grows with every state change, forced close and <see cref="Load"/>. An owner that
    /// admits closed-state calls without <see cref="TryAcquire"/> (from a published view) hands it out with them.
    /// </summary>
    public long Epoch => _epoch;

    /// <summary>Decides whether one call may go ahead now; a half-open admission is a probe.</summary>
    public BreakerPermit TryAcquire(DateTimeOffset now)
    {
        ExpireHungProbes(now);

        if (Status == BreakerStatus.Open)
        {
            if (NextHalfOpenAt is { } halfOpenAt && now < halfOpenAt)
            {
                return BreakerPermit.Rejected(BreakerRejection.Open, halfOpenAt);
            }

            NextHalfOpenAt = null;
            MoveTo(BreakerStatus.HalfOpen, BreakerTransitionReason.BreakElapsed, now);
        }

        switch (Status)
        {
            case BreakerStatus.Closed:
                return new BreakerPermit(true, false, BreakerRejection.None, null, _epoch, ++_lastTicket);
            case BreakerStatus.HalfOpen when _probes.Count < _options.HalfOpenMaxProbes:
                var probe = new BreakerPermit(true, true, BreakerRejection.None, null, _epoch, ++_lastTicket);
                _probes.Add((probe.Ticket, now));
                return probe;
            case BreakerStatus.HalfOpen:
                return BreakerPermit.Rejected(BreakerRejection.HalfOpenBusy, null);
            default:
                return BreakerPermit.Rejected(BreakerRejection.Isolated, null);
        }
    }

    /// <summary>
    /// The permit for an admission made outside this object: a closed-state call admitted from a published view
    /// (<paramref name="ticket"/> 0), or a permit carried across a message boundary and rebuilt from its parts.
    /// It grants nothing by itself: <see cref="OnOutcome"/> counts it only if <paramref name="epoch"/> is still
    /// current, and a probe only if <paramref name="ticket"/> still holds a slot this breaker handed out.
    /// </summary>
    public BreakerPermit PermitFor(long epoch, long ticket, bool isProbe) =>
        new(true, isProbe, BreakerRejection.None, null, epoch, ticket);

    /// <summary>
    /// Reports how an admitted call ended. <paramref name="duration"/> is the call's own duration, which decides
    /// whether a success was slow. Report each permit once.
    /// </summary>
    /// <returns>What was counted; <see cref="RecordedOutcome.Stale"/> if the permit outlived its generation.</returns>
    public RecordedOutcome OnOutcome(BreakerPermit permit, BreakerOutcome outcome, TimeSpan duration, DateTimeOffset now)
    {
        if (!permit.IsAllowed)
        {
            throw new ArgumentException("Only an allowed permit has an outcome to report.", nameof(permit));
        }

        var recorded = BreakerClassifier.Classify(outcome, duration, _options.SlowCallThreshold);
        ExpireHungProbes(now);

        // A probe is known by its ticket alone: slots are cleared on every change of state and restored by a load,
        // so a ticket still in a slot belongs to this half-open period even if the state was reloaded since.
        if (!permit.IsProbe && permit.Epoch != _epoch)
        {
            return RecordedOutcome.Stale;
        }

        if (permit.IsProbe)
        {
            var slot = _probes.FindIndex(p => p.Ticket == permit.Ticket);
            if (slot < 0)
            {
                return RecordedOutcome.Stale;
            }

            _probes.RemoveAt(slot);
            switch (recorded)
            {
                case RecordedOutcome.Success:
                    CloseCircuit(BreakerTransitionReason.ProbeSucceeded, now);
                    break;
                case RecordedOutcome.Failure or RecordedOutcome.SlowCall:
                    OpenCircuit(BreakerTransitionReason.ProbeFailed, now);
                    break;
            }

            return recorded;
        }

        switch (recorded)
        {
            case RecordedOutcome.Success:
                _behavior.OnSuccess(now);
                break;
            case RecordedOutcome.Failure or RecordedOutcome.SlowCall:
                if (_behavior.OnFailure(now) is { } reason)
                {
                    OpenCircuit(reason, now);
                }

                break;
        }

        return recorded;
    }

    /// <summary>Operator action: forces the breaker open until <see cref="Close"/>; in-flight calls no longer count.</summary>
    public void Isolate(DateTimeOffset now)
    {
        if (Status == BreakerStatus.Isolated)
        {
            return;
        }

        NextHalfOpenAt = null;
        MoveTo(BreakerStatus.Isolated, BreakerTransitionReason.Isolated, now);
    }

    /// <summary>
    /// Operator action: forces the breaker closed with an empty window, no consecutive failures and the first
    /// break duration. Also from closed (then no transition is recorded, but the counts start afresh).
    /// </summary>
    public void Close(DateTimeOffset now) => CloseCircuit(BreakerTransitionReason.ManualClose, now);

    /// <summary>Operator action: as <see cref="Close"/>, and the open count starts from zero: a new breaker.</summary>
    public void Reset(DateTimeOffset now)
    {
        CloseCircuit(BreakerTransitionReason.Reset, now);
        OpenCount = 0;
    }

    /// <summary>The state changes since the last drain, oldest first; the queue is emptied.</summary>
    public IReadOnlyList<BreakerTransition> DrainTransitions()
    {
        if (_transitions.Count == 0)
        {
            return [];
        }

        BreakerTransition[] drained = [.. _transitions];
        _transitions.Clear();
        return drained;
    }

    /// <summary>What the breaker looks like at <paramref name="now"/>; changes nothing (a hung probe shows until the next call).</summary>
    public BreakerSnapshot Snapshot(DateTimeOffset now)
    {
        var counts = _behavior.Metrics.Counts(now);
        return new BreakerSnapshot(
            Status,
            counts.FailureRatio,
            counts.Total,
            counts.Failures,
            _behavior.ConsecutiveFailures,
            NextHalfOpenAt,
            OpenCount,
            BreakDuration,
            _probes.Count,
            ChangedAt);
    }

    public BreakerState ToState(long version, DateTimeOffset now)
    {
        var (buckets, successes, failures) = _behavior.Metrics.Export(now);
        return new BreakerState(
            Name,
            version,
            Status,
            ChangedAt,
            NextHalfOpenAt,
            BreakDuration,
            _behavior.ConsecutiveFailures,
            OpenCount,
            buckets,
            successes,
            failures,
            now,
            _probes.Count == 0 ? null : [.. _probes.Select(static p => p.Ticket)],
            _probes.Count == 0 ? null : [.. _probes.Select(static p => p.AcquiredAt.UtcTicks)],
            _lastTicket);
    }

    /// <summary>
    /// Restores a stored state, with the probes out if half-open (whichever node took them); closed-state permits issued
    /// before the load are stale, probes are known by their tickets. The break is clamped to the current options.
    /// </summary>
    public void Load(BreakerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!Enum.IsDefined(state.Status))
        {
            throw new ArgumentException($"Unknown breaker status {state.Status}.", nameof(state));
        }

        Status = state.Status;
        ChangedAt = state.ChangedAt;
        NextHalfOpenAt = state.Status == BreakerStatus.Open ? state.NextHalfOpenAt : null;
        BreakDuration = state.BreakDuration < _options.BreakDuration ? _options.BreakDuration
            : state.BreakDuration > _options.MaxBreakDuration ? _options.MaxBreakDuration
            : state.BreakDuration;
        OpenCount = Math.Max(0, state.OpenCount);
        _behavior.Load(state.ConsecutiveFailures, state.WindowBuckets, state.WindowSuccesses, state.WindowFailures);
        _probes.Clear();
        if (state.Status == BreakerStatus.HalfOpen && state.ProbeTickets is { } tickets && state.ProbeAcquiredAt is { } acquired)
        {
            for (var i = 0; i < tickets.Length && i < acquired.Length; i++)
            {
                _probes.Add((tickets[i], new DateTimeOffset(acquired[i], TimeSpan.Zero)));
            }
        }

        _lastTicket = Math.Max(_lastTicket, state.LastTicket);
        _epoch++;
    }

    /// <summary>In half-open, the oldest probe out for longer than the probe timeout re-opens the breaker as of its timeout.</summary>
    private void ExpireHungProbes(DateTimeOffset now)
    {
        if (Status != BreakerStatus.HalfOpen || _probes.Count == 0)
        {
            return;
        }

        var oldest = _probes.Min(p => p.AcquiredAt);
        var timeout = _options.EffectiveProbeTimeout;
        if (now - oldest > timeout)
        {
            OpenCircuit(BreakerTransitionReason.ProbeTimedOut, oldest + timeout);
        }
    }

    private void OpenCircuit(BreakerTransitionReason reason, DateTimeOffset at)
    {
        if (Status == BreakerStatus.HalfOpen)
        {
            var max = _options.MaxBreakDuration;
            BreakDuration = BreakDuration.Ticks > max.Ticks / 2 ? max : BreakDuration * 2;
        }
        else
        {
            BreakDuration = _options.BreakDuration;
        }

        NextHalfOpenAt = at + BreakDuration;
        OpenCount++;
        MoveTo(BreakerStatus.Open, reason, at);
    }

    private void CloseCircuit(BreakerTransitionReason reason, DateTimeOffset at)
    {
        _behavior.Reset();
        BreakDuration = _options.BreakDuration;
        NextHalfOpenAt = null;
        if (Status == BreakerStatus.Closed)
        {
            // No state change, but calls admitted before the reset must not count against the fresh window.
            _epoch++;
            return;
        }

        MoveTo(BreakerStatus.Closed, reason, at);
    }

    private void MoveTo(BreakerStatus to, BreakerTransitionReason reason, DateTimeOffset at)
    {
        var from = Status;
        Status = to;
        ChangedAt = at;
        _epoch++;
        _probes.Clear();
        _transitions.Add(new BreakerTransition(from, to, reason, at));
    }
}
