using AgentGateway.Contracts.Breakers;
using AgentGateway.Providers.Models;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Routing;

/// <summary>A stream opened on one route, positioned on its first update; completing it reports the breaker outcome.</summary>
public sealed class RoutedStream(
    ModelRouter router,
    BreakerLease lease,
    string model,
    string route,
    IAsyncEnumerator<ChatResponseUpdate> updates,
    bool hasFirst,
    long started,
    CancellationTokenSource call,
    CancellationTokenSource timeout) : IAsyncDisposable
{
    private bool _completed;

    public string Model { get; } = model;

    public string Route { get; } = route;

    public IAsyncEnumerator<ChatResponseUpdate> Updates { get; } = updates;

    /// <summary>Whether <see cref="Updates"/> is positioned on a first update.</summary>
    public bool HasFirst { get; } = hasFirst;

    /// <summary>Cancels the upstream call (a live cut-off); the breaker is not told it failed.</summary>
    public async ValueTask CancelAsync()
    {
        // Marked complete before the cancel, so nothing the cancel sets off reports it as the model's failure.
        var reported = CompleteAsync(StatusCodes.Status499ClientClosedRequest);
        await call.CancelAsync().ConfigureAwait(false);
        await reported.ConfigureAwait(false);
    }

    /// <summary>
    /// The stream broke off with <paramref name="error"/>: the model's fault (its breaker counts it) unless the
    /// gateway itself could not go on (the session's grain could not be asked for the next grant), which only cancels it.
    /// </summary>
    public ValueTask FailAsync(Exception error) =>
        error is Orleans.Runtime.OrleansException
            ? CancelAsync()
            : CompleteAsync(error is ModelCallException failed ? failed.StatusCode : StatusCodes.Status502BadGateway);

    /// <summary>Reports the stream's outcome to the model's breaker, once (a failure: once the breaker counted it).</summary>
    public ValueTask CompleteAsync(int status)
    {
        if (_completed)
        {
            return ValueTask.CompletedTask;
        }

        _completed = true;
        return router.ReportStreamAsync(lease, status, started);
    }

    public async ValueTask DisposeAsync()
    {
        await CompleteAsync(StatusCodes.Status499ClientClosedRequest).ConfigureAwait(false);
        await Updates.DisposeAsync().ConfigureAwait(false);
        call.Dispose();
        timeout.Dispose();
    }
}
