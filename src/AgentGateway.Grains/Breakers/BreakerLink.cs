using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Grains.Breakers;

/// <summary>
/// One served model's breaker as this silo holds it: the view its grain last pushed or answered with (what the hot path
/// reads), and the closed-state outcomes on their way to the grain.
/// </summary>
/// <remarks>
/// <para>
/// Outcomes are kept in order, a run of equal ones as one <see cref="BreakerReport"/>. Successes wait for the report
/// timer; a failure asks for a flush and its caller waits for it. At most one flush is in flight: what is reported
/// meanwhile goes with the next one, which starts as soon as the one in flight is answered. So the grain counts this
/// silo's outcomes in the order they happened, and a burst of failures costs two calls, not one per failure.
/// </para>
/// <para>
/// The view is one reference swapped whole (compare-and-swap, never replaced by one it does not supersede): readers see
/// the old view or the new one, without a lock.
/// </para>
/// </remarks>
internal sealed class BreakerLink : IDisposable
{
    private readonly object _gate = new();
    private readonly List<BreakerReport> _pending = [];
    private readonly ITimer _timer;
    private readonly TimeSpan _interval;
    private readonly Action<BreakerLink, BreakerView> _viewArrived;
    private readonly Action<BreakerLink, int, Exception> _flushFailed;
    private BreakerView? _view;

    // The flush in flight (null: none), and the one asked for while it is (it takes everything pending when it starts).
    private TaskCompletionSource? _sending;
    private TaskCompletionSource? _next;
    private bool _timerArmed;
    private int _resubscribing;
    private long _subscribedActivation;

    public BreakerLink(
        string model,
        IBreakerGrain grain,
        TimeProvider time,
        TimeSpan interval,
        Action<BreakerLink, BreakerView> viewArrived,
        Action<BreakerLink, int, Exception> flushFailed)
    {
        Model = model;
        Grain = grain;
        _interval = interval;
        _viewArrived = viewArrived;
        _flushFailed = flushFailed;
        _timer = time.CreateTimer(static state => ((BreakerLink)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The model's canonical name (the grain's key).</summary>
    public string Model { get; }

    public IBreakerGrain Grain { get; }

    /// <summary>The latest view; null before the grain first answered or pushed.</summary>
    public BreakerView? View => Volatile.Read(ref _view);

    /// <summary>The activation this silo last subscribed to (0: none yet).</summary>
    public long SubscribedActivation
    {
        get => Volatile.Read(ref _subscribedActivation);
        set => Volatile.Write(ref _subscribedActivation, value);
    }

    /// <summary>Takes <paramref name="view"/> unless the one held supersedes it; true when taken.</summary>
    public bool TryPublish(BreakerView view)
    {
        while (true)
        {
            var current = Volatile.Read(ref _view);
            if (!view.Supersedes(current))
            {
                return false;
            }

            if (ReferenceEquals(Interlocked.CompareExchange(ref _view, view, current), current))
            {
                return true;
            }
        }
    }

    /// <summary>Claims the one resubscription of this model in flight; false when one is already.</summary>
    public bool TryStartResubscribe() => Interlocked.Exchange(ref _resubscribing, 1) == 0;

    public void EndResubscribe() => Volatile.Write(ref _resubscribing, 0);

    /// <summary>Keeps a closed-state outcome for the next flush, folded into the last one when equal to it.</summary>
    /// <param name="flush">True for a failure: the returned task completes when a flush that carries it was answered.</param>
    public Task Append(BreakerReport outcome, bool flush)
    {
        bool start, arm = false;
        Task done;
        lock (_gate)
        {
            if (_pending.Count > 0 && _pending[^1] is var last && last with { Count = outcome.Count } == outcome)
            {
                _pending[^1] = last with { Count = last.Count + outcome.Count };
            }
            else
            {
                _pending.Add(outcome);
            }

            if (!flush)
            {
                arm = !_timerArmed;
                _timerArmed = true;
                done = Task.CompletedTask;
                start = false;
            }
            else
            {
                (done, start) = AskFlush();
            }
        }

        if (arm)
        {
            try
            {
                _timer.Change(_interval, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The silo is stopping: what is held is not sent, as with any outcome reported after the last flush.
            }
        }

        if (start)
        {
            _ = PumpAsync();
        }

        return done;
    }

    /// <summary>Sends everything reported so far; completes when the grain has counted it (at once when nothing is held).</summary>
    public Task FlushAsync()
    {
        Task done;
        bool start;
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                // Everything reported is counted already, or in the flush in flight.
                return _sending?.Task ?? Task.CompletedTask;
            }

            (done, start) = AskFlush();
        }

        if (start)
        {
            _ = PumpAsync();
        }

        return done;
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Under the gate, with outcomes pending: the flush that will carry them, and whether the pump must start.</summary>
    private (Task Done, bool Start) AskFlush()
    {
        if (_sending is null)
        {
            _sending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return (_sending.Task, true);
        }

        _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (_next.Task, false);
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            _timerArmed = false;
        }

        _ = FlushAsync();
    }

    /// <summary>Sends the pending outcomes, then the ones asked for meanwhile, one call at a time; never throws.</summary>
    private async Task PumpAsync()
    {
        while (true)
        {
            BreakerReport[] batch;
            TaskCompletionSource done;
            lock (_gate)
            {
                done = _sending!;
                batch = [.. _pending];
                _pending.Clear();
            }

            try
            {
                _viewArrived(this, await Grain.ReportAsync(batch).ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                // The grain could not be reached: these outcomes are lost, as a sample dropped under overload would be.
                _flushFailed(this, batch.Sum(static r => r.Count), ex);
            }

            done.TrySetResult();
            lock (_gate)
            {
                // Successes reported meanwhile wait for the timer (armed when the first of them came); a flush asked for
                // meanwhile starts now and takes everything pending.
                _sending = _next;
                _next = null;
                if (_sending is null)
                {
                    return;
                }
            }
        }
    }
}
