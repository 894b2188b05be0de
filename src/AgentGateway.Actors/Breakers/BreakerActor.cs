using AgentGateway.Actors.Storage;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Runtime;

namespace AgentGateway.Actors.Breakers;

/// <summary>
/// One model's circuit breaker: holds its <see cref="CircuitBreaker"/> in memory, stores every change before it
/// publishes the node's <see cref="LocalBreakerView"/>, and only then logs and announces the transitions.
/// </summary>
/// <remarks>
/// <para>
/// Shared and per node: the state (closed, open, half-open, isolated), the break, the open count and the half-open
/// probe slots are stored and shared by every node; the sampling window and consecutive failures are this node's own,
/// stored only with a change of state. So a breaker that opens on one node is open on all (each rereads the store on
/// a timer), probes are bounded across the cluster, and a closed breaker costs no write per call.
/// </para>
/// <para>
/// Each method runs as one turn. A write that loses an optimistic-concurrency race (another node changed the same
/// breaker) reloads the stored state and applies the change again inside the same turn.
/// </para>
/// <para>
/// Epochs: closed-state calls are admitted from the view, without a turn, so the view's epoch is what their
/// leases carry. The breaker's own epoch restarts with each activation, so the view's is the breaker's plus an
/// offset fixed at activation that puts it past every epoch this node published before: a call admitted by an
/// earlier activation can never be matched to a generation of this one.
/// </para>
/// </remarks>
public sealed class BreakerActor(
    LocalBreakerView local,
    IBreakerStore store,
    BreakerOptions options,
    TimeProvider time,
    BreakerActorLog log,
    IBreakerTransitionSink sink) : Actor
{
    /// <summary>Write attempts per turn before giving up with <see cref="BreakerConflictException"/>.</summary>
    public const int MaxWriteAttempts = 8;

    private readonly CircuitBreaker _breaker = new(local.Model, options);
    private readonly StoredVersion<BreakerState> _stored = new(store, local.Model, static s => s.Version, log.WriteConflict);
    private long _epochOffset;

    private string Model => local.Model;

    public override async ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        _epochOffset = (local.Current is { } previous ? previous.Epoch + 1 : 0) - _breaker.Epoch;
        Publish();
    }

    /// <summary>The slow path of admission: the break elapsed or the breaker is half-open (or not yet loaded).</summary>
    public async ValueTask<BreakerLease> AcquireAsync(CancellationToken cancellationToken)
    {
        await RefreshIfStaleAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var permit = _breaker.TryAcquire(now);
            var transitions = _breaker.DrainTransitions();

            // A change of state is stored, and so is a probe slot: every node sharing the breaker sees the probes out,
            // so their number is bounded across the cluster. A closed-state permit changes nothing stored.
            if ((transitions.Count == 0 && !permit.IsProbe) || await TryWriteAsync(now, cancellationToken).ConfigureAwait(false))
            {
                Publish();
                Announce(transitions);
                return new BreakerLease(Model, permit.IsAllowed, permit.IsProbe, permit.Epoch + _epochOffset, permit.Ticket, permit.RetryAt);
            }

            // The stored state moved on: decide again on it (the probe just taken went with the old state).
            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }

        throw new BreakerConflictException(Model, MaxWriteAttempts);
    }

    /// <summary>Counts an admitted call's outcome (one-way).</summary>
    public async ValueTask ReportAsync(BreakerReport report)
    {
        if (report.IsProbe)
        {
            // Another node may hold the probe's slot in a state this node has not read yet: probes are rare (a few
            // per break), so each reads the store first.
            await ReloadAsync(CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await RefreshIfStaleAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var outcome = BreakerClassifier.FromStatus(report.StatusCode);
        var permit = _breaker.PermitFor(report.Epoch - _epochOffset, report.Ticket, report.IsProbe);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            var recorded = _breaker.OnOutcome(permit, outcome, report.Duration, now);
            var transitions = _breaker.DrainTransitions();
            var counted = recorded is RecordedOutcome.Success or RecordedOutcome.Failure or RecordedOutcome.SlowCall;
            // Only what every node must agree on is written: a change of state, and a probe's outcome (it frees its stored
            // slot, even an ignored client error). A closed-state outcome only moves this node's sampling window: writing
            // every call would make one item per model the hottest, most contended key of a cluster.
            var changed = transitions.Count > 0 || (report.IsProbe && recorded != RecordedOutcome.Stale);
            if (!changed || await TryWriteAsync(now, CancellationToken.None).ConfigureAwait(false))
            {
                Publish();
                Announce(transitions);
                return;
            }

            await ReloadAsync(CancellationToken.None).ConfigureAwait(false);

            // The reload started a new generation. A probe is applied again by its ticket (its slot is stored, unless
            // the breaker moved on meanwhile: then the outcome is stale). A closed-state call still counts if the stored
            // breaker is closed; an uncounted outcome stays uncounted.
            if (report.IsProbe)
            {
                continue;
            }

            if (!counted || _breaker.Status != BreakerStatus.Closed)
            {
                Publish();
                return;
            }

            permit = _breaker.PermitFor(_breaker.Epoch, 0, isProbe: false);
        }

        throw new BreakerConflictException(Model, MaxWriteAttempts);
    }

    /// <summary>
    /// Rereads the stored breaker and publishes it to the node's view, so a state another node wrote (an open, an
    /// operator's isolate) reaches this node's callers without waiting for a conflict. Announces nothing: the node that
    /// wrote the change announced it. True when the stored state differed from what this node held.
    /// </summary>
    public async ValueTask<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var changed = await ReloadAsync(cancellationToken).ConfigureAwait(false);
        Publish();
        return changed;
    }

    public async ValueTask<BreakerInfo> GetAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        Publish();
        return ToInfo(time.GetUtcNow());
    }

    public ValueTask<BreakerInfo> IsolateAsync(CancellationToken cancellationToken)
        => ChangeAsync(static (breaker, now) => breaker.Isolate(now), cancellationToken);

    public ValueTask<BreakerInfo> CloseAsync(CancellationToken cancellationToken)
        => ChangeAsync(static (breaker, now) => breaker.Close(now), cancellationToken);

    public ValueTask<BreakerInfo> ResetAsync(CancellationToken cancellationToken)
        => ChangeAsync(static (breaker, now) => breaker.Reset(now), cancellationToken);

    /// <summary>An operator action: applied to the freshest stored state, always written.</summary>
    private async ValueTask<BreakerInfo> ChangeAsync(Action<CircuitBreaker, DateTimeOffset> change, CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
        {
            var now = time.GetUtcNow();
            change(_breaker, now);
            var transitions = _breaker.DrainTransitions();
            if (await TryWriteAsync(now, cancellationToken).ConfigureAwait(false))
            {
                Publish();
                Announce(transitions);
                return ToInfo(now);
            }

            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }

        throw new BreakerConflictException(Model, MaxWriteAttempts);
    }

    private void Publish() => local.Publish(_breaker.Status, _breaker.Epoch + _epochOffset, _breaker.NextHalfOpenAt);

    /// <summary>Logs and hands on each transition: after the change is stored and published, never inside it.</summary>
    private void Announce(IReadOnlyList<BreakerTransition> transitions)
    {
        foreach (var transition in transitions)
        {
            log.Transition(Model, transition, transition.To == BreakerStatus.Open ? _breaker.NextHalfOpenAt : null);
            try
            {
                sink.OnTransition(Model, transition);
            }
            catch (Exception ex)
            {
                log.SinkFailed(Model, ex);
            }
        }
    }

    private BreakerInfo ToInfo(DateTimeOffset now)
    {
        var snapshot = _breaker.Snapshot(now);
        return new BreakerInfo(
            Model,
            snapshot.Status.ToWireName(),
            snapshot.FailureRatio,
            snapshot.CallsInWindow,
            snapshot.FailuresInWindow,
            snapshot.ConsecutiveFailures,
            snapshot.NextHalfOpenAt,
            snapshot.OpenCount,
            snapshot.BreakDuration.TotalSeconds,
            snapshot.ProbesInFlight,
            snapshot.ChangedAt,
            _stored.Version);
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
            // Nothing stored but something held: only after a failed write; start as a new breaker.
            _breaker.Load(stored ?? EmptyState());
        }

        return changed;
    }

    private ValueTask<bool> TryWriteAsync(DateTimeOffset now, CancellationToken cancellationToken)
        => _stored.TryWriteAsync(_breaker.ToState(_stored.Version + 1, now), cancellationToken);

    private BreakerState EmptyState() =>
        new(Model, 0, BreakerStatus.Closed, null, null, options.BreakDuration, 0, 0, [], [], [], default);
}

/// <summary>An admitted call's outcome on its way to the breaker actor: the lease's generation and ticket, and the result.</summary>
public readonly record struct BreakerReport(long Epoch, long Ticket, bool IsProbe, int StatusCode, TimeSpan Duration);
