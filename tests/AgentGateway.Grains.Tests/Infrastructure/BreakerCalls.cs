using System.Collections.Concurrent;
using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Grains.Tests.Infrastructure;

/// <summary>
/// Counts the calls into breaker grains by method, on whichever silo the grain runs; and can hold the next
/// <see cref="IBreakerGrain.ReportAsync"/> calls at the grain's door until the test lets them in.
/// </summary>
public sealed class BreakerCalls : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private volatile TaskCompletionSource? _reportGate;

    /// <summary>Calls of <paramref name="method"/> (e.g. <c>nameof(IBreakerGrain.ReportAsync)</c>) so far.</summary>
    public int Of(string method) => _calls.GetValueOrDefault(method);

    /// <summary>From now on, reports wait at the grain until <see cref="OpenReports"/>; completes when the first one waits.</summary>
    public Task HoldReports()
    {
        Arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _reportGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Arrived.Task;
    }

    public void OpenReports() => _reportGate?.TrySetResult();

    private TaskCompletionSource? Arrived { get; set; }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IBreakerGrain))
        {
            var method = context.InterfaceMethod.Name;
            _calls.AddOrUpdate(method, 1, static (_, n) => n + 1);
            if (method == nameof(IBreakerGrain.ReportAsync) && _reportGate is { } gate)
            {
                Arrived?.TrySetResult();
                await gate.Task;
            }
        }

        await context.Invoke();
    }
}
