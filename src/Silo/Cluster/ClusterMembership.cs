using AgentGateway.Actors.Breakers;
using AgentGateway.Actors.Sessions;
using AgentGateway.Alerts;
using AgentGateway.Contracts.Cluster;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Silo.Conversations;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace AgentGateway.Silo.Cluster;

/// <summary>
/// The node's part in the cluster, on timers of the injected <see cref="TimeProvider"/>:
/// <list type="bullet">
/// <item>registers at start and heartbeats every <see cref="ClusterOptions.HeartbeatInterval"/> with its activation counts; removes itself at a clean stop;</item>
/// <item>finds nodes whose heartbeat is older than <see cref="ClusterOptions.DeadAfter"/>, adopts their undelivered alerts, raises the alerts of
/// trips that have none (a node that died between writing a trip and storing its alert), then drops their records;</item>
/// <item>every <see cref="ClusterOptions.BreakerRefreshInterval"/> makes each breaker reread the shared store, so a breaker opened on another node is
/// seen here within that interval plus one read.</item>
/// </list>
/// Every step is safe when several nodes do it at once: adoption and alert inserts are conditional writes in the store.
/// </summary>
public sealed partial class ClusterMembership : IHostedLifecycleService, IAsyncDisposable
{
    private const int ReconcilePageSize = 500;

    private readonly INodeRegistry _registry;
    private readonly ClusterOptions _options;
    private readonly NodeIdentity _identity;
    private readonly TimeProvider _time;
    private readonly SessionService _sessions;
    private readonly ModelBreakers _breakers;
    private readonly ChatConversations _chats;
    private readonly AlertService _alerts;
    private readonly ISessionCatalog _catalog;
    private readonly IServer _server;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Periodic _heartbeat;
    private readonly Periodic _refresh;
    private ITimer? _heartbeatTimer;
    private ITimer? _refreshTimer;

    public ClusterMembership(
        INodeRegistry registry,
        ClusterOptions options,
        NodeIdentity identity,
        TimeProvider time,
        SessionService sessions,
        ModelBreakers breakers,
        ChatConversations chats,
        AlertService alerts,
        ISessionCatalog catalog,
        IServer server,
        ILogger<ClusterMembership> logger)
    {
        _registry = registry;
        _options = options;
        _identity = identity;
        _time = time;
        _sessions = sessions;
        _breakers = breakers;
        _chats = chats;
        _alerts = alerts;
        _catalog = catalog;
        _server = server;
        _logger = logger;
        _heartbeat = new Periodic(HeartbeatOnceAsync, _stopping.Token);
        _refresh = new Periodic(ct => RunLoggedAsync("breaker refresh", _breakers.RefreshAsync, 0, ct), _stopping.Token);
    }

    public string NodeId => _identity.Id;

    public ClusterOptions Options => _options;

    /// <summary>Completes when the next heartbeat (timer or call) has finished, whatever its outcome.</summary>
    public Task NextHeartbeat => _heartbeat.Next;

    /// <summary>Completes when the next timed breaker refresh has finished, whatever its outcome.</summary>
    public Task NextBreakerRefresh => _refresh.Next;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
        _heartbeatTimer = _time.CreateTimer(
            static state => ((Periodic)state!).Tick(), _heartbeat, _options.HeartbeatInterval, _options.HeartbeatInterval);
        if (_options.BreakerRefreshInterval > TimeSpan.Zero)
        {
            _refreshTimer = _time.CreateTimer(
                static state => ((Periodic)state!).Tick(), _refresh, _options.BreakerRefreshInterval, _options.BreakerRefreshInterval);
        }
    }

    /// <summary>
    /// Once the server listens, its address is known: heartbeat again so the registry shows it at once. Then, in the
    /// background, raise the alerts of recent trips that have none (this node may have died between a trip and its alert).
    /// </summary>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
        StartupReconcile = Task.Run(() => RunLoggedAsync("trip alert check at start", ReconcileTripsAsync, 0, _stopping.Token));
    }

    /// <summary>The check for trips without an alert that runs once the node has started.</summary>
    public Task<int> StartupReconcile { get; private set; } = Task.FromResult(0);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await StopTimersAsync().ConfigureAwait(false);
        try
        {
            await _registry.RemoveAsync(_identity.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // It ages out after Cluster:DeadAfter instead.
            RegistryFailed(_logger, "remove", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopTimersAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>The nodes whose last heartbeat is within <see cref="ClusterOptions.DeadAfter"/> of now (this node always included), by id.</summary>
    /// <param name="now">The node's time the answer is for (this node's own record is stamped with it, so its age is 0).</param>
    /// <param name="cancellationToken">Cancels the registry read.</param>
    public async Task<IReadOnlyList<NodeRecord>> LiveNodesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nodes = await _registry.ListAsync(cancellationToken).ConfigureAwait(false);
        var live = nodes.Where(n => IsLive(n, now) && n.NodeId != _identity.Id).Append(Current(now));
        return [.. live.OrderBy(static n => n.NodeId, StringComparer.Ordinal)];
    }

    /// <summary>
    /// One heartbeat: writes this node's record, then handles the nodes found dead (adopt their alerts, raise missing trip
    /// alerts, drop their records). Failures are logged, never thrown: the next heartbeat tries again.
    /// </summary>
    public Task HeartbeatAsync(CancellationToken cancellationToken) => _heartbeat.RunAsync(cancellationToken);

    private async Task HeartbeatOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var now = _time.GetUtcNow();
            await _registry.UpsertAsync(Current(now), cancellationToken).ConfigureAwait(false);
            var dead = (await _registry.ListAsync(cancellationToken).ConfigureAwait(false))
                .Where(n => n.NodeId != _identity.Id && !IsLive(n, now))
                .Select(static n => n.NodeId)
                .ToList();
            if (dead.Count > 0)
            {
                NodesGone(_logger, dead.Count, string.Join(", ", dead));
                await _alerts.AdoptAsync(dead, cancellationToken).ConfigureAwait(false);
                await ReconcileTripsAsync(cancellationToken).ConfigureAwait(false);
                foreach (var id in dead)
                {
                    await _registry.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            RegistryFailed(_logger, "heartbeat", ex);
        }
    }

    /// <summary>
    /// Raises the alert of every trip within <see cref="ClusterOptions.TripLookback"/> that has none in the outbox; the
    /// alert's id is derived from the trip (session, reason, time), so a trip already alerted is never alerted again.
    /// </summary>
    public async Task<int> ReconcileTripsAsync(CancellationToken cancellationToken)
    {
        var since = _time.GetUtcNow() - _options.TripLookback;
        var raised = 0;
        string? after = null;
        do
        {
            var page = await _catalog.ListAsync(SessionStatus.Tripped, ReconcilePageSize, after, cancellationToken).ConfigureAwait(false);
            var trips = page.Items
                .Where(s => s.TrippedAt is { } at && at >= since)
                .Select(static s => new SessionTripped(s.SessionId, s.TripReason, s.LoopCount, s.WindowTokens.Sum(), s.TrippedAt!.Value, s.Owner))
                .ToList();
            if (trips.Count > 0)
            {
                raised += await _alerts.ReconcileTripsAsync(trips, cancellationToken).ConfigureAwait(false);
            }

            after = page.NextCursor;
        }
        while (after is not null);
        return raised;
    }

    private bool IsLive(NodeRecord node, DateTimeOffset now) => now - node.HeartbeatAt <= _options.DeadAfter;

    private NodeRecord Current(DateTimeOffset now) => new(
        _identity.Id,
        _options.AdvertisedAddress ?? _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? string.Empty,
        _identity.StartedAt,
        now,
        _sessions.Host.ActivationCount,
        _breakers.Host.ActivationCount,
        _chats.ConversationCount,
        _chats.SocketCount,
        now + _options.DeadAfter);

    /// <summary>A background step: a failure is logged (the next run tries again); a stop ends it quietly.</summary>
    private async Task<T> RunLoggedAsync<T>(string step, Func<CancellationToken, Task<T>> work, T onFailure, CancellationToken stopping)
    {
        try
        {
            return await work(stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            RegistryFailed(_logger, step, ex);
            return onFailure;
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            return onFailure;
        }
    }

    private async Task StopTimersAsync()
    {
        if (_heartbeatTimer is { } heartbeat)
        {
            await heartbeat.DisposeAsync().ConfigureAwait(false);
        }

        if (_refreshTimer is { } refresh)
        {
            await refresh.DisposeAsync().ConfigureAwait(false);
        }

        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One kind of work run on a timer: a tick starts a run in the background unless the last one is still going (a slow
    /// store never piles runs up); every run, ticked or called, completes <see cref="Next"/>.
    /// </summary>
    private sealed class Periodic(Func<CancellationToken, Task> work, CancellationToken stopping)
    {
        private int _running;
        private TaskCompletionSource _done = NewSignal();

        public Task Next => Volatile.Read(ref _done).Task;

        public void Tick()
        {
            if (Interlocked.Exchange(ref _running, 1) == 1)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(stopping).ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _running, 0);
                }
            });
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                await work(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Exchange(ref _done, NewSignal()).TrySetResult();
            }
        }

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(600, LogLevel.Warning, "Cluster {Step} failed; the next heartbeat tries again")]
    private static partial void RegistryFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(601, LogLevel.Warning, "{Count} node(s) stopped heartbeating and are taken out of the cluster: {Nodes}")]
    private static partial void NodesGone(ILogger logger, int count, string nodes);
}
