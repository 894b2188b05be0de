using System.Collections.Concurrent;

namespace AgentGateway.Alerts.Tests;

/// <summary>
/// An extra <see cref="IAlertObserver"/> for tests (an alert grain's, or a node's): records what was raised and
/// suppressed, and signals when the alert grain has decided on a number of alerts (raised or suppressed), or delivered
/// or failed a number of publishes (each reported after the outbox write), so tests wait without polling. Silo.Tests
/// and Grains.Tests compile this same file (linked in their projects).
/// </summary>
public sealed class AlertSignals : IAlertObserver
{
    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private int _decided;
    private int _delivered;
    private int _failed;

    /// <summary>
    /// Completes once this many alerts were raised or suppressed: how a test knows that one-way raises (breaker
    /// transitions) were handled, since their callers get no answer to wait for.
    /// </summary>
    public Task WhenDecided(int count) => When(() => _decided >= count);

    public Task WhenDelivered(int count) => When(() => _delivered >= count);

    public Task WhenFailed(int count) => When(() => _failed >= count);

    /// <summary>Kinds raised, in order.</summary>
    public ConcurrentQueue<string> Raised { get; } = new();

    /// <summary>"kind/why" of each suppressed alert, in order.</summary>
    public ConcurrentQueue<string> Suppressed { get; } = new();

    void IAlertObserver.Raised(string kind)
    {
        Raised.Enqueue(kind);
        Bump(ref _decided);
    }

    void IAlertObserver.Suppressed(string kind, string why)
    {
        Suppressed.Enqueue(kind + "/" + why);
        Bump(ref _decided);
    }

    void IAlertObserver.Delivered(string sink) => Bump(ref _delivered);

    void IAlertObserver.Failed(string sink) => Bump(ref _failed);

    private void Bump(ref int counter)
    {
        lock (_gate)
        {
            counter++;
            foreach (var waiter in _waiters.Where(w => w.Done()).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Signal.TrySetResult();
            }
        }
    }

    private Task When(Func<bool> done)
    {
        lock (_gate)
        {
            if (done())
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((done, signal));
            return signal.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
