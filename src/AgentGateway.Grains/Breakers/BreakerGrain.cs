using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Logging;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Utilities;

namespace AgentGateway.Grains.Breakers;

/// <summary>
/// One model's circuit breaker: a thin adapter that runs its <see cref="CircuitBreaker"/> one turn at a time, stores each
/// change of state, then pushes the new view to every subscribed silo and announces the transitions.
/// </summary>
/// <remarks>
/// <para>
/// Writes: a change of state (an open, a half-open, a close, an operator action) and a half-open probe's slot, taken or
/// freed, are written in their turn. Closed-state outcomes only move the sampling window and write nothing: a write per
/// model call would make one item per model the hottest key of the gateway. So after a restart a breaker comes back with
/// its state, break, open count and probe slots, and its window as of its last change.
/// </para>
/// <para>
/// Probes are exact cluster-wide because this is the breaker's one activation: concurrent acquires from every silo are
/// turns of it. It is kept alive (never collected for idleness), so silos stay subscribed and their views stay pushed.
/// </para>
/// <para>
/// Epochs: silos admit closed-state calls from their view, without a turn, so a lease carries the view's epoch: the
/// breaker's own plus an offset drawn at random per activation. The breaker's epoch restarts with each activation, so
/// without the offset a lease admitted under an earlier activation (before a close, say) could carry the very number the
/// new activation has reached, and its outcome would count against the wrong generation. Drawn from 62 bits, two
/// activations' epochs practically never meet, and offset plus epoch never overflows.
/// </para>
/// <para>
/// A write the store refuses (another process wrote the breaker: two clusters sharing a table) leaves nothing decided:
/// the answer is what this activation last stored, a refused lease for an acquire, <see cref="BreakerReply.Busy"/> for an
/// operator action; the activation is dropped, so the next call reads the stored state.
/// </para>
/// </remarks>
[KeepAlive]
public sealed partial class BreakerGrain(
    [PersistentState("breaker", GrainStorageNames.Breakers)] IPersistentState<BreakerState> stored,
    IOptions<BreakerOptions> options,
    IEnumerable<IBreakerTransitionSink> sinks,
    GrainActivations activations,
    TimeProvider time,
    ILogger<BreakerGrain> logger) : Grain, IBreakerGrain
{
    private readonly CompositeBreakerTransitionSink _sink = new(sinks);

    // Expiry on the grain's clock, as the silos renew on theirs.
    private readonly ObserverManager<IBreakerObserver> _observers = new(BreakerSubscription.Expiry, logger)
    {
        GetDateTime = () => time.GetUtcNow().UtcDateTime,
    };

    private CircuitBreaker _breaker = null!;
    private long _epochOffset;
    private long _activation;
    private BreakerView _view = null!;

    private string Model => _breaker.Name;

    private long Version => stored.RecordExists ? stored.State.Version : 0;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _breaker = new CircuitBreaker(this.GetPrimaryKeyString(), options.Value);
        if (stored.RecordExists)
        {
            _breaker.Load(stored.State);
        }

        _epochOffset = Random.Shared.NextInt64(1L << 62);
        _activation = Random.Shared.NextInt64();
        _view = ViewOfBreaker(version: 1);
        activations.BreakerActivated();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        activations.BreakerDeactivated();
        return Task.CompletedTask;
    }

    public async Task<BreakerGrant> AcquireAsync()
    {
        var now = time.GetUtcNow();
        var permit = _breaker.TryAcquire(now);
        var transitions = _breaker.DrainTransitions();

        // A probe's slot is stored with the change of state, so a restarted breaker still counts the probes out.
        if ((transitions.Count > 0 || permit.IsProbe) && !await TryStoreAsync(now))
        {
            return new BreakerGrant(new BreakerLease(Model, false, false, 0, 0, null), _view);
        }

        var view = Publish();
        Announce(transitions);
        return new BreakerGrant(
            new BreakerLease(Model, permit.IsAllowed, permit.IsProbe, permit.Epoch + _epochOffset, permit.Ticket, permit.RetryAt), view);
    }

    public async Task<BreakerView> ReportAsync(BreakerReport[] reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var now = time.GetUtcNow();
        var probeSettled = false;
        foreach (var report in reports)
        {
            var permit = _breaker.PermitFor(report.Epoch - _epochOffset, report.Ticket, report.IsProbe);
            var outcome = BreakerClassifier.FromStatus(report.StatusCode);
            for (var i = 0; i < report.Count; i++)
            {
                // The rest of a run shares its generation: once one is stale (the run opened the breaker), all are.
                if (_breaker.OnOutcome(permit, outcome, report.Duration, now) == RecordedOutcome.Stale)
                {
                    break;
                }

                probeSettled |= report.IsProbe;
            }
        }

        var transitions = _breaker.DrainTransitions();
        if ((transitions.Count > 0 || probeSettled) && !await TryStoreAsync(now))
        {
            return _view;
        }

        var view = Publish();
        Announce(transitions);
        return view;
    }

    public Task<BreakerReply> GetAsync() => Task.FromResult(new BreakerReply(ToInfo(time.GetUtcNow()), _view));

    public Task<BreakerReply> IsolateAsync() => ChangeAsync(static (breaker, now) => breaker.Isolate(now));

    public Task<BreakerReply> CloseAsync() => ChangeAsync(static (breaker, now) => breaker.Close(now));

    public Task<BreakerReply> ResetAsync() => ChangeAsync(static (breaker, now) => breaker.Reset(now));

    public Task<BreakerView> SubscribeAsync(IBreakerObserver observer)
    {
        _observers.Subscribe(observer, observer);
        return Task.FromResult(_view);
    }

    public Task UnsubscribeAsync(IBreakerObserver observer)
    {
        _observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    /// <summary>An operator action: always written (a close from closed changes no state but starts a new generation).</summary>
    private async Task<BreakerReply> ChangeAsync(Action<CircuitBreaker, DateTimeOffset> change)
    {
        var now = time.GetUtcNow();
        change(_breaker, now);
        var transitions = _breaker.DrainTransitions();
        if (!await TryStoreAsync(now))
        {
            return new BreakerReply(null, _view, Busy: true);
        }

        var view = Publish();
        Announce(transitions);
        return new BreakerReply(ToInfo(now), view);
    }

    /// <summary>
    /// Takes the breaker's view as the current one if it differs from it, and pushes it to every subscribed silo
    /// (one-way: a slow or dead silo never holds up the turn; a dead one is dropped when its subscription expires).
    /// </summary>
    private BreakerView Publish()
    {
        var current = _view;
        if (current.Status == _breaker.Status && current.Epoch == _breaker.Epoch + _epochOffset && current.NextHalfOpenAt == _breaker.NextHalfOpenAt)
        {
            return current;
        }

        var view = _view = ViewOfBreaker(current.Version + 1);
        _observers.Notify(observer => _ = observer.ViewChanged(view));
        return view;
    }

    private BreakerView ViewOfBreaker(long version) =>
        new(Model, _breaker.Status, _breaker.Epoch + _epochOffset, _breaker.NextHalfOpenAt, version, _activation);

    /// <summary>Logs and hands on each transition: after the change is stored and pushed, never inside it.</summary>
    private void Announce(IReadOnlyList<BreakerTransition> transitions)
    {
        foreach (var transition in transitions)
        {
            if (transition.To is BreakerStatus.Open or BreakerStatus.Isolated)
            {
                LogOpened(Model, transition.From.ToWireName(), transition.To.ToWireName(), transition.Reason, transition.At, _breaker.NextHalfOpenAt);
            }
            else
            {
                LogChanged(Model, transition.From.ToWireName(), transition.To.ToWireName(), transition.Reason, transition.At);
            }

            try
            {
                _sink.OnTransition(Model, transition);
            }
            catch (Exception ex)
            {
                LogSinkFailed(Model, ex);
            }
        }
    }

    /// <summary>Stores what the breaker holds; false when the store refused it (this activation is then dropped).</summary>
    private Task<bool> TryStoreAsync(DateTimeOffset now) =>
        this.TryWriteAsync(stored, _breaker.ToState(Version + 1, now), etag => LogWriteConflict(Model, etag));

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
            Version);
    }

    [LoggerMessage(LogEvents.Breakers + 0, LogLevel.Warning, "Breaker of model {Model} {From} -> {To} ({Reason}) at {At}; next probe at {NextHalfOpenAt}")]
    private partial void LogOpened(string model, string from, string to, BreakerTransitionReason reason, DateTimeOffset at, DateTimeOffset? nextHalfOpenAt);

    [LoggerMessage(LogEvents.Breakers + 1, LogLevel.Information, "Breaker of model {Model} {From} -> {To} ({Reason}) at {At}")]
    private partial void LogChanged(string model, string from, string to, BreakerTransitionReason reason, DateTimeOffset at);

    [LoggerMessage(LogEvents.Breakers + 2, LogLevel.Warning, "Breaker of model {Model}: the store refused a write (now at version {Version}); this activation is dropped")]
    private partial void LogWriteConflict(string model, string? version);

    [LoggerMessage(LogEvents.Breakers + 3, LogLevel.Error, "Breaker of model {Model}: a transition sink failed")]
    private partial void LogSinkFailed(string model, Exception exception);
}
