using AgentGateway.Alerts;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// Registered as an extra <see cref="IAlertObserver"/> on a node: signals tests when the node's alert actor has
/// delivered or failed a number of publishes (each reported after the outbox write), so tests wait without polling.
/// </summary>
public sealed class AlertSignals : IAlertObserver
{
    private readonly Lock _gate = new();
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private int _delivered;
    private int _failed;

    public Task WhenDelivered(int count) => When(() => _delivered >= count);

    public Task WhenFailed(int count) => When(() => _failed >= count);

    public void Raised(string kind)
    {
    }

    public void Suppressed(string kind, string why)
    {
    }

    public void Delivered(string sink) => Bump(ref _delivered);

    public void Failed(string sink) => Bump(ref _failed);

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
