using System.Collections.Concurrent;
using Orleans;

namespace AgentGateway.TestSupport.Orleans;

/// <summary>
/// A grain call filter for tests: tells when a grain has finished a call, so a test that made a one-way call (its
/// caller gets no answer to wait on) can wait for the grain to have run it before it reads, without polling. Register
/// one instance as an <see cref="IIncomingGrainCallFilter"/> service of every silo.
/// </summary>
public sealed class GrainCallSignals : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<(string Grain, string Method), int> _completed = new();
    private readonly Lock _gate = new();
    private readonly List<(string Grain, string Method, int Count, TaskCompletionSource Done)> _waiters = [];

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        finally
        {
            var key = (context.TargetId.Key.ToString()!, context.ImplementationMethod.Name);
            lock (_gate)
            {
                var count = _completed.AddOrUpdate(key, 1, static (_, n) => n + 1);
                foreach (var waiter in _waiters.Where(w => w.Grain == key.Item1 && w.Method == key.Item2 && count >= w.Count).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult();
                }
            }
        }
    }

    /// <summary>Completes once the grain keyed <paramref name="grain"/> has finished <paramref name="method"/> <paramref name="count"/> times.</summary>
    public Task WhenCompleted(string grain, string method, int count = 1)
    {
        lock (_gate)
        {
            if (_completed.TryGetValue((grain, method), out var done) && done >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((grain, method, count, signal));
            return signal.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
