using System.Collections.Frozen;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Logging;
using AgentGateway.Governance.Breakers;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Grains.Breakers;

/// <summary>
/// <see cref="IModelBreakers"/> on a silo: one <see cref="IBreakerGrain"/> per served model, and per model the view its
/// grain pushes here, so the hot path answers without a grain call.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="AcquireAsync"/> reads the model's view: closed admits at once (the view's epoch, ticket 0), open before its
/// break has elapsed and isolated refuse at once; these complete synchronously and allocate nothing. Half-open, an
/// elapsed break and a model with no view yet ask the grain, whose turn runs <see cref="CircuitBreaker.TryAcquire"/>, so
/// callers on every silo get at most <see cref="BreakerOptions.HalfOpenMaxProbes"/> probes between them.
/// </para>
/// <para>
/// <see cref="ReportAsync"/>: a closed-state success is kept and sent with the model's next batch, at most
/// <see cref="BreakerOptions.ReportInterval"/> later (one call per model per interval, not one per request); a client
/// error is not counted, so it is not sent. A failure or slow call is sent at once with everything kept before it, and
/// its caller waits until the grain has counted it: the request that saw the failure that opens a breaker answers after
/// this silo's view is open. A probe's outcome goes to the grain at once. Operator reads send what is kept first.
/// </para>
/// <para>
/// Views: every answer of the grain carries its view, taken at once; the grain pushes every change to the silos
/// subscribed (<see cref="StartAsync"/> at silo start, renewed every <see cref="BreakerSubscription.RenewalPeriod"/>).
/// A view may lag the grain by one push: a call admitted from a closed view just as the breaker opened carries the old
/// epoch and its outcome is not counted, exactly as for a call that outlived a break. A view from a new activation of the
/// grain (it moved, or was dropped after a write conflict) makes this silo subscribe to it at once.
/// </para>
/// <para>
/// Grain calls that fail (a silo lost, a store down) never reach the caller: an acquire is refused (the router moves on
/// to the fallback chain), a lost batch of outcomes is logged.
/// </para>
/// </remarks>
public sealed partial class ModelBreakers : IModelBreakers, IAsyncDisposable
{
    /// <summary>Tries of an operator action whose write the store refused (each on a fresh activation).</summary>
    public const int MaxActionAttempts = 3;

    private readonly FrozenDictionary<string, BreakerLink> _links;
    private readonly BreakerLink[] _ordered;
    private readonly IGrainFactory _grains;
    private readonly TimeSpan _slowCallThreshold;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelBreakers> _logger;
    private readonly Observer _observer;
    private IBreakerObserver? _reference;
    private ITimer? _renewal;
    private int _renewing;

    public ModelBreakers(
        IEnumerable<string> models,
        IGrainFactory grains,
        BreakerOptions options,
        TimeProvider time,
        ILogger<ModelBreakers> logger)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _grains = grains;
        _slowCallThreshold = options.SlowCallThreshold;
        _time = time;
        _logger = logger;
        _links = models.Distinct(StringComparer.OrdinalIgnoreCase).ToFrozenDictionary(
            static m => m,
            m => new BreakerLink(m, grains.GetGrain<IBreakerGrain>(m), time, options.ReportInterval, OnView, OnFlushFailed),
            StringComparer.OrdinalIgnoreCase);
        _ordered = [.. _links.Values.OrderBy(static l => l.Model, StringComparer.Ordinal)];
        _observer = new Observer(this);
    }

    /// <summary>Raised after this silo took a new view of a breaker (from a push or an answer); for diagnostics and tests.</summary>
    public event Action<BreakerView>? ViewPublished;

    /// <summary>The served models, in name order.</summary>
    public IReadOnlyList<string> Models => [.. _ordered.Select(static l => l.Model)];

    /// <summary>What this silo's hot path sees for <paramref name="model"/>; null before its grain first answered or pushed.</summary>
    public BreakerView? ViewOf(string model) => _links.TryGetValue(model, out var link) ? link.View : null;

    /// <exception cref="ArgumentException"><paramref name="model"/> is not served.</exception>
    public ValueTask<BreakerLease> AcquireAsync(string model, CancellationToken cancellationToken)
    {
        if (!_links.TryGetValue(model, out var link))
        {
            throw new ArgumentException($"Model '{model}' is not served: it has no breaker.", nameof(model));
        }

        var view = link.View;
        switch (view?.Status)
        {
            case BreakerStatus.Closed:
                return new ValueTask<BreakerLease>(new BreakerLease(link.Model, true, false, view.Epoch, 0, null));
            case BreakerStatus.Isolated:
                return new ValueTask<BreakerLease>(new BreakerLease(link.Model, false, false, view.Epoch, 0, null));
            case BreakerStatus.Open when view.NextHalfOpenAt is { } at && _time.GetUtcNow() < at:
                return new ValueTask<BreakerLease>(new BreakerLease(link.Model, false, false, view.Epoch, 0, at));
            default:
                return AskAcquireAsync(link);
        }
    }

    public ValueTask ReportAsync(BreakerLease lease, int statusCode, TimeSpan duration)
    {
        if (!lease.Allowed || lease.Model is null || !_links.TryGetValue(lease.Model, out var link))
        {
            return ValueTask.CompletedTask;
        }

        if (lease.IsProbe)
        {
            return new ValueTask(ReportProbeAsync(link, new BreakerReport(lease.Epoch, lease.Ticket, true, statusCode, duration, 1)));
        }

        // Classified here as the grain would, so equal outcomes fold into one report and client errors are not sent.
        switch (BreakerClassifier.Classify(BreakerClassifier.FromStatus(statusCode), duration, _slowCallThreshold))
        {
            case RecordedOutcome.Success:
                return new ValueTask(link.Append(new BreakerReport(lease.Epoch, 0, false, 200, TimeSpan.Zero, 1), flush: false));
            case RecordedOutcome.Failure:
                // A failure is a failure however long it took: its duration is dropped, so failures in a row fold.
                return new ValueTask(link.Append(new BreakerReport(lease.Epoch, 0, false, statusCode, TimeSpan.Zero, 1), flush: true));
            case RecordedOutcome.SlowCall:
                return new ValueTask(link.Append(new BreakerReport(lease.Epoch, 0, false, statusCode, duration, 1), flush: true));
            default:
                return ValueTask.CompletedTask;
        }
    }

    public async Task<IReadOnlyList<BreakerInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var all = await Task.WhenAll(_ordered.Select(link => GetAsync(link, cancellationToken))).ConfigureAwait(false);
        return all;
    }

    public async Task<BreakerInfo?> GetAsync(string model, CancellationToken cancellationToken) =>
        _links.TryGetValue(model, out var link) ? await GetAsync(link, cancellationToken).ConfigureAwait(false) : null;

    public Task<BreakerInfo?> IsolateAsync(string model, CancellationToken cancellationToken) =>
        ActAsync(model, static grain => grain.IsolateAsync(), cancellationToken);

    public Task<BreakerInfo?> CloseAsync(string model, CancellationToken cancellationToken) =>
        ActAsync(model, static grain => grain.CloseAsync(), cancellationToken);

    public Task<BreakerInfo?> ResetAsync(string model, CancellationToken cancellationToken) =>
        ActAsync(model, static grain => grain.ResetAsync(), cancellationToken);

    /// <summary>
    /// Subscribes this silo to every served model's breaker (activating each, so every view is here before the first
    /// request) and renews the subscriptions every <see cref="BreakerSubscription.RenewalPeriod"/> on the silo's clock.
    /// A model whose grain cannot be reached now is logged and tried again with the next renewal; until then its
    /// callers ask the grain. Run when the silo becomes active (<see cref="BreakerSubscriptions"/>).
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _reference ??= _grains.CreateObjectReference<IBreakerObserver>(_observer);
        await Task.WhenAll(_ordered.Select(SubscribeAsync)).WaitAsync(cancellationToken).ConfigureAwait(false);
        _renewal ??= _time.CreateTimer(
            static state => _ = ((ModelBreakers)state!).RenewAsync(),
            this,
            BreakerSubscription.RenewalPeriod,
            BreakerSubscription.RenewalPeriod);
    }

    /// <summary>Stops renewing and unsubscribes (best effort: a subscription left behind expires on its own).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_renewal is { } renewal)
        {
            await renewal.DisposeAsync().ConfigureAwait(false);
            _renewal = null;
        }

        if (_reference is not { } reference)
        {
            return;
        }

        try
        {
            await Task.WhenAll(_ordered.Select(link => link.Grain.UnsubscribeAsync(reference))).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogUnsubscribeFailed(ex);
        }

        _grains.DeleteObjectReference<IBreakerObserver>(reference);
        _reference = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_renewal is { } renewal)
        {
            await renewal.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var link in _ordered)
        {
            link.Dispose();
        }
    }

    private async ValueTask<BreakerLease> AskAcquireAsync(BreakerLink link)
    {
        try
        {
            var grant = await link.Grain.AcquireAsync().ConfigureAwait(false);
            OnView(link, grant.View);
            return grant.Lease;
        }
        catch (Exception ex)
        {
            // Without its breaker no call is admitted: the router tries the next route, as for an open breaker.
            LogAcquireFailed(link.Model, ex);
            return new BreakerLease(link.Model, false, false, 0, 0, null);
        }
    }

    private async Task ReportProbeAsync(BreakerLink link, BreakerReport probe)
    {
        try
        {
            OnView(link, await link.Grain.ReportAsync([probe]).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            // Its slot is freed by the probe timeout, which re-opens the breaker.
            OnFlushFailed(link, 1, ex);
        }
    }

    private async Task<BreakerInfo> GetAsync(BreakerLink link, CancellationToken cancellationToken)
    {
        await link.FlushAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var reply = await link.Grain.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        OnView(link, reply.View);
        return reply.Info!;
    }

    /// <summary>
    /// An operator action; asked again when the store refused its write (the grain then dropped its activation, so the
    /// next try decides on the stored state).
    /// </summary>
    private async Task<BreakerInfo?> ActAsync(string model, Func<IBreakerGrain, Task<BreakerReply>> action, CancellationToken cancellationToken)
    {
        if (!_links.TryGetValue(model, out var link))
        {
            return null;
        }

        for (var attempt = 1; attempt <= MaxActionAttempts; attempt++)
        {
            var reply = await action(link.Grain).WaitAsync(cancellationToken).ConfigureAwait(false);
            OnView(link, reply.View);
            if (!reply.Busy)
            {
                return reply.Info;
            }
        }

        throw new InvalidOperationException(
            $"The breaker of model '{link.Model}' could not be changed: its store refused {MaxActionAttempts} writes in a row (another process keeps writing it).");
    }

    private async Task SubscribeAsync(BreakerLink link)
    {
        if (_reference is not { } reference)
        {
            return;
        }

        try
        {
            var view = await link.Grain.SubscribeAsync(reference).ConfigureAwait(false);
            link.SubscribedActivation = view.Activation;
            OnView(link, view);
        }
        catch (Exception ex)
        {
            LogSubscribeFailed(link.Model, ex);
        }
    }

    /// <summary>One renewal of every subscription at a time (a fake clock may fire many periods at once).</summary>
    private async Task RenewAsync()
    {
        if (Interlocked.Exchange(ref _renewing, 1) == 1)
        {
            return;
        }

        try
        {
            await Task.WhenAll(_ordered.Select(SubscribeAsync)).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _renewing, 0);
        }
    }

    /// <summary>A view from an answer or a push: taken if newer; one from an activation not subscribed to resubscribes.</summary>
    private void OnView(BreakerLink link, BreakerView view)
    {
        if (link.TryPublish(view))
        {
            ViewPublished?.Invoke(view);
        }

        if (view.Activation != link.SubscribedActivation && _reference is not null && link.TryStartResubscribe())
        {
            _ = ResubscribeAsync(link);
        }
    }

    private async Task ResubscribeAsync(BreakerLink link)
    {
        try
        {
            await SubscribeAsync(link).ConfigureAwait(false);
        }
        finally
        {
            link.EndResubscribe();
        }
    }

    private void OnFlushFailed(BreakerLink link, int outcomes, Exception exception) => LogReportFailed(link.Model, outcomes, exception);

    private void OnPushed(BreakerView view)
    {
        if (_links.TryGetValue(view.Model, out var link))
        {
            OnView(link, view);
        }
    }

    [LoggerMessage(LogEvents.Breakers + 10, LogLevel.Warning, "Breaker of model {Model}: {Outcomes} outcome(s) could not be reported to its grain and are not counted")]
    private partial void LogReportFailed(string model, int outcomes, Exception exception);

    [LoggerMessage(LogEvents.Breakers + 11, LogLevel.Warning, "Breaker of model {Model}: its grain could not be asked; the call is refused")]
    private partial void LogAcquireFailed(string model, Exception exception);

    [LoggerMessage(LogEvents.Breakers + 12, LogLevel.Warning, "Breaker of model {Model}: this silo could not subscribe to its grain; tried again with the next renewal")]
    private partial void LogSubscribeFailed(string model, Exception exception);

    [LoggerMessage(LogEvents.Breakers + 13, LogLevel.Information, "Breakers: this silo could not unsubscribe from every breaker grain; the subscriptions expire on their own")]
    private partial void LogUnsubscribeFailed(Exception exception);

    /// <summary>The silo's one observer of every breaker grain: each push lands in its model's link.</summary>
    private sealed class Observer(ModelBreakers owner) : IBreakerObserver
    {
        public Task ViewChanged(BreakerView view)
        {
            owner.OnPushed(view);
            return Task.CompletedTask;
        }
    }
}
