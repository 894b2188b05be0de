using System.Collections.Concurrent;

namespace AgentGateway.Alerts.Tests;

/// <summary>
/// An extra <see cref="IAlertObserver"/> for tests (an alert service's, or a node's): records what was raised and
/// suppressed, and signals when the alert actor has delivered or failed a number of publishes (each reported after
/// the outbox write), so tests wait without polling. Silo.Tests compiles this same file (linked in its project).
/// </summary>
public sealed class AlertSignals : IAlertObserver
{
    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private int _delivered;
    private int _failed;

    public Task WhenDelivered(int count) => When(() => _delivered >= count);

    public Task WhenFailed(int count) => When(() => _failed >= count);

    /// <summary>Kinds raised, in order.</summary>
    public ConcurrentQueue<string> Raised { get; } = new();

    /// <summary>"kind/why" of each suppressed alert, in order.</summary>
    public ConcurrentQueue<string> Suppressed { get; } = new();

    void IAlertObserver.Raised(string kind) => Raised.Enqueue(kind);

    void IAlertObserver.Suppressed(string kind, string why) => Suppressed.Enqueue(kind + "/" + why);

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
