using LibraryFakeTimeProvider = Microsoft.Extensions.Time.Testing.FakeTimeProvider;

namespace AgentGateway.TestSupport;

/// <summary>
/// The library's fake clock, started on the project's <see cref="DefaultStart"/>, with each timer seeing the clock at its
/// own due time, and two ways for a test to learn that the code under test has started waiting without waiting itself:
/// <see cref="WhenTimerArmed"/> and <see cref="ActiveTimers"/>.
/// </summary>
/// <remarks>
/// The library fires the timers (and so <c>Task.Delay(…, provider)</c> and <c>CancellationTokenSource(…, provider)</c>)
/// synchronously inside <see cref="Advance"/>, in due order, and at once a timer armed to fall due now. What this class
/// adds to it:
/// <list type="bullet">
/// <item>The library moves the clock to the end of an advance before it fires anything, so a periodic timer that falls due
/// five times in one advance reads the end time five times (dotnet/extensions#5722). <see cref="Advance"/> stops at each
/// due time on the way, as the clock would.</item>
/// <item>The library's clock read runs, on the reading thread, any timer that is due: a server thread reading the clock while
/// the test advances it could run the test's timers after <see cref="Advance"/> returned. Here reading the clock is only a
/// read, and time moves only in <see cref="Advance"/> (so <c>AutoAdvanceAmount</c> has no effect: it stays zero).</item>
/// </list>
/// Move the clock through this type: the library's <c>Advance</c>, reached through a reference of the base type, would leave
/// this clock behind. A timer armed on another thread at the very moment the test advances can still take over firing what
/// falls due (the library fires on whichever thread gets there first), as with any timer armed while time moves.
/// </remarks>
public sealed class FakeTimeProvider : LibraryFakeTimeProvider
{
    /// <summary>A start on a whole minute, so bucketed windows line up with test arithmetic.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _gate = new();
    private readonly HashSet<ObservedTimer> _armed = [];
    private readonly List<(TimeSpan DueTime, TaskCompletionSource Armed)> _armedWaiters = [];
    private DateTimeOffset _now;

    public FakeTimeProvider(DateTimeOffset? start = null)
        : base(start ?? DefaultStart)
        => _now = Start;

    /// <summary>Timers currently armed: created or changed to fall due, and neither fired (if one-shot) nor disposed since.</summary>
    public int ActiveTimers
    {
        get
        {
            lock (_gate)
            {
                return _armed.Count;
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    /// <summary>Moves time forward, stopping at each due time on the way to fire what falls due there.</summary>
    public new void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        DateTimeOffset target;
        lock (_gate)
        {
            target = _now + delta;
        }

        while (true)
        {
            DateTimeOffset step;
            lock (_gate)
            {
                step = target;
                foreach (var timer in _armed)
                {
                    if (timer.DueAt is { } at && at > _now && at < step)
                    {
                        step = at;
                    }
                }

                _now = step;
            }

            base.SetUtcNow(step);
            if (step == target)
            {
                return;
            }
        }
    }

    /// <summary>Moves time forward to <paramref name="value"/> as <see cref="Advance"/> does.</summary>
    public new void SetUtcNow(DateTimeOffset value) => Advance(value - GetUtcNow());

    /// <summary>Not supported: time moves only forward, through <see cref="Advance"/>.</summary>
    public new void AdjustTime(DateTimeOffset value) => throw new NotSupportedException("Time moves only through Advance.");

    /// <summary>
    /// Completes when a timer is next armed (created or changed) to fall due exactly <paramref name="dueTime"/>
    /// from now: how a test learns that the code under test has started waiting, without waiting itself.
    /// </summary>
    public Task WhenTimerArmed(TimeSpan dueTime)
    {
        var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _armedWaiters.Add((dueTime, armed));
        }

        return armed.Task;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Created disarmed and armed through the wrapper, so a timer due at once finds the wrapper complete when it fires.
        var timer = new ObservedTimer(this, callback, state);
        timer.Attach(base.CreateTimer(static s => ((ObservedTimer)s!).Fire(), timer, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>The library's timer, with its due time known to the provider.</summary>
    private sealed class ObservedTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private ITimer _inner = null!;
        private TimeSpan _period;
        private bool _disposed;

        /// <summary>When the timer next fires; null while disarmed. Read and written under the owner's lock.</summary>
        public DateTimeOffset? DueAt { get; private set; }

        public void Attach(ITimer inner) => _inner = inner;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            (DateTimeOffset? DueAt, TimeSpan Period) previous;
            lock (owner._gate)
            {
                if (_disposed)
                {
                    return false;
                }

                previous = (DueAt, _period);
                Arm(dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime, period);
            }

            try
            {
                _inner.Change(dueTime, period);
            }
            catch
            {
                // The library refuses due times a real timer refuses too, and then keeps the timer as it was.
                lock (owner._gate)
                {
                    Arm(previous.DueAt, previous.Period);
                }

                throw;
            }

            // Only once the library timer is armed: a test that goes on to advance the clock must find it due.
            lock (owner._gate)
            {
                owner._armedWaiters.RemoveAll(w => w.DueTime == dueTime && w.Armed.TrySetResult());
            }

            return true;
        }

        public void Fire()
        {
            lock (owner._gate)
            {
                var periodic = _period != Timeout.InfiniteTimeSpan && _period != TimeSpan.Zero;
                Arm(periodic ? DueAt + _period : null, _period);
            }

            callback(state);
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                _disposed = true;
                Arm(null, _period);
            }

            _inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Arm(DateTimeOffset? dueAt, TimeSpan period)
        {
            DueAt = dueAt;
            _period = period;
            if (dueAt is null)
            {
                owner._armed.Remove(this);
            }
            else
            {
                owner._armed.Add(this);
            }
        }
    }
}
