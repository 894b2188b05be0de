using System.Collections.Frozen;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Runtime;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Actors.Breakers;

/// <summary>
/// <see cref="IModelBreakers"/> over the in-process actor host: one <see cref="BreakerActor"/> per served model, and
/// per model a <see cref="LocalBreakerView"/> that answers the hot path without a message.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="AcquireAsync"/> reads the model's view: closed admits at once (the view's epoch, ticket 0), open
/// before its break has elapsed and isolated refuse at once; both complete synchronously and allocate nothing.
/// Half-open, an elapsed break and a not-yet-loaded breaker ask the actor, whose turn runs
/// <see cref="CircuitBreaker.TryAcquire"/>, so concurrent callers get at most
/// <see cref="BreakerOptions.HalfOpenMaxProbes"/> probes between them.
/// </para>
/// <para>
/// The view may lag the actor by one turn: a call admitted from a closed view just as the breaker opened carries
/// the old epoch and its outcome is not counted, exactly as for a call that outlived a break.
/// </para>
/// </remarks>
public sealed class ModelBreakers : IModelBreakers, IAsyncDisposable
{
    private readonly ActorHost<string, BreakerActor> _host;
    private readonly FrozenDictionary<string, LocalBreakerView> _views;
    private readonly string[] _models;
    private readonly TimeProvider _time;
    private readonly BreakerActorLog _log;

    public ModelBreakers(
        IEnumerable<string> models,
        IBreakerStore store,
        BreakerOptions options,
        ActorHostOptions hostOptions,
        TimeProvider time,
        ILoggerFactory loggers,
        IBreakerTransitionSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        _time = time;
        _log = new BreakerActorLog(loggers.CreateLogger<BreakerActor>());
        _views = models.Distinct(StringComparer.OrdinalIgnoreCase)
            .ToFrozenDictionary(m => m, m => new LocalBreakerView(m), StringComparer.OrdinalIgnoreCase);
        _models = [.. _views.Keys.Order(StringComparer.Ordinal)];
        var transitions = sink ?? NullBreakerTransitionSink.Instance;
        var log = _log;
        _host = new ActorHost<string, BreakerActor>(
            model => new BreakerActor(_views[model], store, options, time, log, transitions),
            hostOptions,
            time,
            loggers.CreateLogger<ActorHost<string, BreakerActor>>(),
            StringComparer.Ordinal);
    }

    /// <summary>The served models, in name order.</summary>
    public IReadOnlyList<string> Models => _models;

    /// <summary>The actor host, for diagnostics and tests.</summary>
    public ActorHost<string, BreakerActor> Host => _host;

    /// <summary>What this node's hot path sees for <paramref name="model"/>; null before its actor first loaded.</summary>
    public BreakerView? ViewOf(string model) => _views.TryGetValue(model, out var local) ? local.Current : null;

    /// <exception cref="ArgumentException"><paramref name="model"/> is not served.</exception>
    public ValueTask<BreakerLease> AcquireAsync(string model, CancellationToken cancellationToken)
    {
        if (!_views.TryGetValue(model, out var local))
        {
            throw new ArgumentException($"Model '{model}' is not served: it has no breaker.", nameof(model));
        }

        var view = local.Current;
        switch (view?.Status)
        {
            case BreakerStatus.Closed:
                return new ValueTask<BreakerLease>(new BreakerLease(view.Model, true, false, view.Epoch, 0, null));
            case BreakerStatus.Isolated:
                return new ValueTask<BreakerLease>(new BreakerLease(view.Model, false, false, view.Epoch, 0, null));
            case BreakerStatus.Open when view.NextHalfOpenAt is { } at && _time.GetUtcNow() < at:
                return new ValueTask<BreakerLease>(new BreakerLease(view.Model, false, false, view.Epoch, 0, at));
            default:
                return AskAcquireAsync(local.Model, cancellationToken);
        }
    }

    public void Report(in BreakerLease lease, int statusCode, TimeSpan duration)
    {
        if (!lease.Allowed || lease.Model is null || !_views.TryGetValue(lease.Model, out var local))
        {
            return;
        }

        try
        {
            _host.Tell(
                local.Model,
                new BreakerReport(lease.Epoch, lease.Ticket, lease.IsProbe, statusCode, duration),
                static (actor, report) => actor.ReportAsync(report));
        }
        catch (MailboxFullException)
        {
            // Overload: losing one sample is better than blocking or failing the call that reports it.
            _log.ReportDropped(local.Model);
        }
    }

    public async Task<IReadOnlyList<BreakerInfo>> ListAsync(CancellationToken cancellationToken)
    {
        var all = await Task.WhenAll(_models.Select(m => _host.AskAsync(m, 0, static (actor, _, ct) => actor.GetAsync(ct), cancellationToken)))
            .ConfigureAwait(false);
        return all;
    }

    /// <summary>
    /// Every breaker rereads its stored state (see <see cref="BreakerActor.RefreshAsync"/>); how many had changed. Run
    /// on a timer when several nodes share the store, it bounds how long a node acts on another's stale breaker.
    /// </summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken)
    {
        var changed = await Task.WhenAll(_models.Select(m => _host.AskAsync(m, 0, static (actor, _, ct) => actor.RefreshAsync(ct), cancellationToken)))
            .ConfigureAwait(false);
        return changed.Count(static c => c);
    }

    public Task<BreakerInfo?> GetAsync(string model, CancellationToken cancellationToken)
        => AskAsync(model, static (actor, ct) => actor.GetAsync(ct), cancellationToken);

    public Task<BreakerInfo?> IsolateAsync(string model, CancellationToken cancellationToken)
        => AskAsync(model, static (actor, ct) => actor.IsolateAsync(ct), cancellationToken);

    public Task<BreakerInfo?> CloseAsync(string model, CancellationToken cancellationToken)
        => AskAsync(model, static (actor, ct) => actor.CloseAsync(ct), cancellationToken);

    public Task<BreakerInfo?> ResetAsync(string model, CancellationToken cancellationToken)
        => AskAsync(model, static (actor, ct) => actor.ResetAsync(ct), cancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private async ValueTask<BreakerLease> AskAcquireAsync(string model, CancellationToken cancellationToken)
    {
        try
        {
            return await _host.AskAsync(model, 0, static (actor, _, ct) => actor.AcquireAsync(ct), cancellationToken).ConfigureAwait(false);
        }
        catch (MailboxFullException)
        {
            // So many callers wait on a probing breaker that it could not admit them anyway.
            return new BreakerLease(model, false, false, 0, 0, null);
        }
    }

    private async Task<BreakerInfo?> AskAsync(
        string model, Func<BreakerActor, CancellationToken, ValueTask<BreakerInfo>> turn, CancellationToken cancellationToken)
    {
        if (!_views.TryGetValue(model, out var local))
        {
            return null;
        }

        return await _host.AskAsync(local.Model, turn, static (actor, t, ct) => t(actor, ct), cancellationToken).ConfigureAwait(false);
    }
}
