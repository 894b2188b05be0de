using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance.Breakers;
using AgentGateway.Runtime;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Alerts;

/// <summary>
/// The node's alerting: composes alerts from governance events and hands them to the <see cref="AlertActor"/> with a
/// <c>Tell</c>, so a reporter (a session or breaker actor, inside its turn) never waits for the outbox or a sink.
/// </summary>
public sealed class AlertService : ISessionEventSink, IAsyncDisposable
{
    private const string ActorKey = "alerts";

    private readonly ActorHost<string, AlertActor> _host;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly AlertComposer _composer;
    private readonly IAlertObserver _observer;
    private readonly ILogger _logger;

    public AlertService(
        AlertOptions options,
        IAlertOutboxStore store,
        IEnumerable<IAlertSink> sinks,
        TimeProvider time,
        ILoggerFactory loggers,
        IAlertObserver? observer = null,
        string? node = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var sinkList = sinks.ToList();
        Node = node ?? AlertComposer.ThisNode;
        _composer = new AlertComposer(Node);
        _observer = observer ?? NullAlertObserver.Instance;
        _logger = loggers.CreateLogger<AlertService>();
        var shutdown = _shutdown.Token;
        var actorLogger = loggers.CreateLogger<AlertActor>();
        _host = new ActorHost<string, AlertActor>(
            _ => new AlertActor(options, store, sinkList, time, _observer, actorLogger, Post, shutdown, Node),
            new ActorHostOptions { MailboxCapacity = 100_000, IdleTimeout = TimeSpan.FromHours(1), CollectionInterval = TimeSpan.FromHours(1) },
            time,
            loggers.CreateLogger<ActorHost<string, AlertActor>>());
        Sinks = sinkList.Select(static s => s.Name).ToArray();
    }

    /// <summary>This node's id: named in every alert's body, and the owner of the alerts it raises or adopts.</summary>
    public string Node { get; }

    /// <summary>The configured sinks' names.</summary>
    public IReadOnlyList<string> Sinks { get; }

    public AlertComposer Composer => _composer;

    /// <summary>Hands the alert to the actor and returns at once; a full mailbox drops it (counted, logged).</summary>
    public void Raise(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!TryPost(a => a.RaiseAsync(alert)))
        {
            _observer.Suppressed(alert.Kind, "mailbox_full");
            AlertLog.Suppressed(_logger, alert.MessageId, alert.Kind, alert.Key, "mailbox_full");
        }
    }

    public void Tripped(SessionTripped tripped) => Raise(_composer.SessionTripped(tripped));

    /// <summary>A resume raises no alert (the operator did it).</summary>
    public void Resumed(string sessionId, DateTimeOffset at)
    {
    }

    public void BreakerTransition(string model, BreakerTransition transition)
    {
        if (_composer.BreakerTransition(model, transition) is { } alert)
        {
            Raise(alert);
        }
    }

    /// <summary>Activates the actor, which loads the outbox and starts delivering what is pending; completes when it has read it.</summary>
    public Task RecoverAsync(CancellationToken cancellationToken = default) =>
        _host.AskAsync(ActorKey, 0, static (_, _, _) => ValueTask.FromResult(0), cancellationToken);

    /// <summary>Takes over the undelivered alerts of <paramref name="deadNodes"/> (see <see cref="AlertActor.AdoptAsync"/>); how many.</summary>
    public Task<int> AdoptAsync(IReadOnlyCollection<string> deadNodes, CancellationToken cancellationToken = default) =>
        _host.AskAsync(ActorKey, deadNodes, static (actor, nodes, _) => actor.AdoptAsync(nodes), cancellationToken);

    /// <summary>Raises the alerts of these trips unless the outbox has them already (see <see cref="AlertActor.ReconcileAsync"/>); how many.</summary>
    public Task<int> ReconcileTripsAsync(IEnumerable<SessionTripped> trips, CancellationToken cancellationToken = default)
    {
        var alerts = trips.Select(_composer.SessionTripped).ToList();
        return _host.AskAsync(ActorKey, alerts, static (actor, a, _) => actor.ReconcileAsync(a), cancellationToken);
    }

    /// <summary>Recent alerts (newest first) with each sink's delivery.</summary>
    public Task<IReadOnlyList<AlertView>> ListAsync(CancellationToken cancellationToken = default) =>
        _host.AskAsync(ActorKey, 0, static (actor, _, _) => ValueTask.FromResult(actor.Snapshot()), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_shutdown.IsCancellationRequested)
        {
            await _shutdown.CancelAsync().ConfigureAwait(false);
        }

        await _host.DisposeAsync().ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private void Post(Func<AlertActor, ValueTask> message) => TryPost(message);

    private bool TryPost(Func<AlertActor, ValueTask> message)
    {
        try
        {
            _host.Tell(ActorKey, message, static (actor, m) => m(actor));
            return true;
        }
        catch (MailboxFullException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            // Shutting down: what is stored is delivered after the next start.
            return true;
        }
    }
}
