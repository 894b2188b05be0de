using AgentGateway.Contracts.Breakers;
using AgentGateway.Grains.Breakers;

namespace AgentGateway.Grains.Tests.Infrastructure;

/// <summary>Waiting for a silo's view of a breaker, without polling: on the view it holds, else on the next one it takes.</summary>
public static class BreakerViews
{
    /// <summary>A guard against a push that never comes (the test then fails), not a wait: views arrive in milliseconds.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    public static async Task<BreakerView> WhenViewAsync(this ModelBreakers breakers, string model, Func<BreakerView, bool> predicate)
    {
        var seen = new TaskCompletionSource<BreakerView>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnView(BreakerView view)
        {
            if (view.Model == model && predicate(view))
            {
                seen.TrySetResult(view);
            }
        }

        breakers.ViewPublished += OnView;
        try
        {
            if (breakers.ViewOf(model) is { } current && predicate(current))
            {
                return current;
            }

            return await seen.Task.WaitAsync(Guard);
        }
        finally
        {
            breakers.ViewPublished -= OnView;
        }
    }

    /// <summary>The lease of an acquire that must have completed synchronously (no grain call).</summary>
    public static BreakerLease Synchronously(this ValueTask<BreakerLease> pending)
    {
        pending.IsCompletedSuccessfully.ShouldBeTrue();
        return pending.Result;
    }
}
