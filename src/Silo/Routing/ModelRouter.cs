using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Logging;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace AgentGateway.Silo.Routing;

/// <summary>
/// Sends one governed call to a model that can answer it: the requested model first, then its fallback chain,
/// each attempt through the model's circuit breaker, with retries (jittered exponential backoff) on throttling
/// and transient errors, a timeout per call and a deadline for the whole request. When no route answers, the
/// caller gives the deterministic fallback: a model failure never reaches the client as a 5xx.
/// </summary>
/// <remarks>
/// The session's governance counted this request once, before routing: retries and fallbacks are the gateway's
/// own work and do not add loops. A stream is retried or re-routed only before its first chunk.
/// </remarks>
public sealed partial class ModelRouter
{
    /// <summary>The status reported to a breaker for a call the client abandoned: a client error, so not counted.</summary>
    private const int ClientClosedRequest = 499;

    private readonly ModelCatalog _models;
    private readonly IModelBreakers _breakers;
    private readonly RoutingOptions _options;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelRouter> _logger;
    private readonly ResiliencePipeline _attempts;
    private readonly Dictionary<string, ModelEntry[]> _chains;

    public ModelRouter(
        ModelCatalog models,
        IModelBreakers breakers,
        IOptions<RoutingOptions> options,
        GatewayMetrics metrics,
        TimeProvider time,
        ILogger<ModelRouter> logger)
    {
        _models = models;
        _breakers = breakers;
        _options = options.Value;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _chains = BuildChains(models, _options);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time };
        if (_options.MaxRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ModelCallException>(static e => IsRetryable(e.StatusCode)),
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.RetryMaxDelay,
                OnRetry = args =>
                {
                    var model = args.Context.Properties.GetValue(ModelKey, "?");
                    _metrics.Retried(model);
                    LogRetry(model, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        _attempts = pipeline.Build();
    }

    private static readonly ResiliencePropertyKey<string> ModelKey = new("agent-gateway.model");

    /// <summary>The models tried after <paramref name="model"/>, in order.</summary>
    public IReadOnlyList<string> FallbacksOf(string model) =>
        _chains.TryGetValue(model, out var chain) ? [.. chain.Select(m => m.Name)] : [];

    /// <summary>Answers a non-streamed call through the first route that can.</summary>
    public async Task<RouteResult> CompleteAsync(ModelEntry primary, IList<ChatMessage> messages, ChatOptions options, CancellationToken aborted)
    {
        using var deadline = new CancellationTokenSource(_options.RequestDeadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, deadline.Token);
        int? lastStatus = null;
        foreach (var (model, route) in Candidates(primary))
        {
            var context = ResilienceContextPool.Shared.Get(linked.Token);
            context.Properties.Set(ModelKey, model.Name);
            try
            {
                var response = await _attempts.ExecuteAsync(
                    static async (ctx, state) => await state.Router.CallOnceAsync(state.Model, state.Messages, state.Options, ctx.CancellationToken, state.Aborted).ConfigureAwait(false),
                    context,
                    (Router: this, Model: model, Messages: messages, Options: options, Aborted: aborted)).ConfigureAwait(false);
                return new RouteResult(response, route, model.LogicalName, null);
            }
            catch (BreakerOpenException)
            {
                _metrics.ModelCall(model.Name, "rejected_by_breaker");
            }
            catch (ModelCallException ex)
            {
                lastStatus = ex.StatusCode;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                LogDeadline(primary.Name, _options.RequestDeadline);
                return new RouteResult(null, Routes.Deterministic, null, StatusCodes.Status504GatewayTimeout);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        return new RouteResult(null, Routes.Deterministic, null, lastStatus ?? StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// Opens a stream on the first route that yields a first update; the returned stream must be completed
    /// with the outcome. Null when no route could start one (the caller answers with the fallback).
    /// </summary>
    public async Task<(RoutedStream? Stream, int? UpstreamStatus)> OpenStreamAsync(
        ModelEntry primary, IList<ChatMessage> messages, ChatOptions options, CancellationToken aborted)
    {
        int? lastStatus = null;
        foreach (var (model, route) in Candidates(primary))
        {
            var lease = await _breakers.AcquireAsync(model.Name, aborted).ConfigureAwait(false);
            if (!lease.Allowed)
            {
                _metrics.ModelCall(model.Name, "rejected_by_breaker");
                continue;
            }

            var started = _time.GetTimestamp();

            // The call timeout bounds the wait for the first update only; it is disarmed once the stream has begun.
            var timeout = new CancellationTokenSource(_options.CallTimeout, _time);
            var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, timeout.Token);
            var updates = model.Client.GetStreamingResponseAsync(messages, ForModel(options, model), linked.Token).GetAsyncEnumerator(linked.Token);
            try
            {
                var any = await updates.MoveNextAsync().ConfigureAwait(false);
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                return (new RoutedStream(this, lease, model.LogicalName, route, updates, any, started, linked, timeout), null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || (timeout.IsCancellationRequested && !aborted.IsCancellationRequested))
            {
                await updates.DisposeAsync().ConfigureAwait(false);
                linked.Dispose();
                timeout.Dispose();
                var status = ex is OperationCanceledException ? StatusCodes.Status504GatewayTimeout : StatusOf(ex);
                await ReportAsync(lease, status, started).ConfigureAwait(false);
                _metrics.ModelCall(model.Name, status == StatusCodes.Status504GatewayTimeout ? "timeout" : "failed");
                LogModelFailed(model.Name, status, ex);
                lastStatus = status;
            }
            catch (OperationCanceledException)
            {
                await updates.DisposeAsync().ConfigureAwait(false);
                linked.Dispose();
                timeout.Dispose();
                await ReportAsync(lease, ClientClosedRequest, started).ConfigureAwait(false);
                throw;
            }
        }

        return (null, lastStatus ?? StatusCodes.Status503ServiceUnavailable);
    }

    private async ValueTask<ChatResponse> CallOnceAsync(
        ModelEntry model, IList<ChatMessage> messages, ChatOptions options, CancellationToken token, CancellationToken aborted)
    {
        var lease = await _breakers.AcquireAsync(model.Name, token).ConfigureAwait(false);
        if (!lease.Allowed)
        {
            throw new BreakerOpenException(model.Name);
        }

        options = ForModel(options, model);
        var started = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(_options.CallTimeout, _time);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        try
        {
            var response = await model.Client.GetResponseAsync(messages, options, call.Token).ConfigureAwait(false);
            await ReportAsync(lease, StatusCodes.Status200OK, started).ConfigureAwait(false);
            return response;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !token.IsCancellationRequested)
        {
            await ReportAsync(lease, StatusCodes.Status504GatewayTimeout, started).ConfigureAwait(false);
            _metrics.ModelCall(model.Name, "timeout");
            throw new ModelCallException(model.Name, StatusCodes.Status504GatewayTimeout, $"Model '{model.Name}' did not answer within {_options.CallTimeout}.");
        }
        catch (OperationCanceledException)
        {
            // The client left or the request's deadline passed: not the model's fault.
            await ReportAsync(lease, aborted.IsCancellationRequested ? ClientClosedRequest : StatusCodes.Status504GatewayTimeout, started).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex)
        {
            var status = StatusOf(ex);
            await ReportAsync(lease, status, started).ConfigureAwait(false);
            _metrics.ModelCall(model.Name, "failed");
            LogModelFailed(model.Name, status, ex);
            throw ex as ModelCallException ?? new ModelCallException(model.Name, status, $"Model '{model.Name}' failed: {ex.Message}", ex);
        }
    }

    private IEnumerable<(ModelEntry Model, string Route)> Candidates(ModelEntry primary)
    {
        yield return (primary, Routes.Primary);
        if (_chains.TryGetValue(primary.Name, out var chain))
        {
            foreach (var alternate in chain)
            {
                yield return (alternate, Routes.Fallback(alternate.Name));
            }
        }

        foreach (var replica in primary.Replicas)
        {
            yield return (replica, Routes.Region(replica.Region!));
        }
    }

    /// <summary>The request's options addressed to <paramref name="model"/> (a copy for an alternate).</summary>
    private static ChatOptions ForModel(ChatOptions options, ModelEntry model)
    {
        if (string.Equals(options.ModelId, model.Name, StringComparison.Ordinal))
        {
            return options;
        }

        var copy = options.Clone();
        copy.ModelId = model.Name;
        return copy;
    }

    private static int StatusOf(Exception ex) => ex is ModelCallException failed ? failed.StatusCode : StatusCodes.Status502BadGateway;

    /// <summary>Throttling and transient upstream errors are retried; a plain 500 moves on to the next route at once.</summary>
    private static bool IsRetryable(int status) => status is 408 or 429 or 502 or 503 or 504;

    private static Dictionary<string, ModelEntry[]> BuildChains(ModelCatalog models, RoutingOptions options)
    {
        var chains = new Dictionary<string, ModelEntry[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in models.Models)
        {
            var names = options.Fallbacks.Count > 0
                ? options.Fallbacks.TryGetValue(model.Name, out var configured) ? configured : []
                : models.Models.Where(m => !string.Equals(m.Name, model.Name, StringComparison.OrdinalIgnoreCase)).Select(m => m.Name).ToArray();
            chains[model.Name] = [.. names.Select(n => models.TryGet(n, out var entry) ? entry : null).OfType<ModelEntry>()];
        }

        return chains;
    }

    internal ValueTask ReportStreamAsync(BreakerLease lease, int status, long started) => ReportAsync(lease, status, started);

    /// <summary>
    /// A call's outcome, to the latency histogram and to its model's breaker: a success completes at once, a failure once
    /// the breaker counted it, so the next attempt (a retry, the fallback, the next request) sees the breaker it opened.
    /// </summary>
    private ValueTask ReportAsync(BreakerLease lease, int status, long started)
    {
        var elapsed = _time.GetElapsedTime(started);
        _metrics.ModelLatency(lease.Model, status, elapsed);
        return _breakers.ReportAsync(lease, status, elapsed);
    }

    [LoggerMessage(LogEvents.Routing + 0, LogLevel.Warning, "Model {Model} failed with status {Status}")]
    private partial void LogModelFailed(string model, int status, Exception exception);

    [LoggerMessage(LogEvents.Routing + 1, LogLevel.Information, "Retrying model {Model} (attempt {Attempt}) after {Delay}")]
    private partial void LogRetry(string model, int attempt, TimeSpan delay);

    [LoggerMessage(LogEvents.Routing + 2, LogLevel.Warning, "Request for {Model} passed its deadline of {Deadline}; answered with the fallback")]
    private partial void LogDeadline(string model, TimeSpan deadline);

    /// <summary>The model's breaker refused the call (open, busy half-open, isolated).</summary>
    private sealed class BreakerOpenException(string model) : Exception($"The breaker of model '{model}' is open.");
}
