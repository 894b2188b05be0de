using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Runtime;

/// <summary>
/// An in-process actor host for one actor type: one activation per key, turns that never interleave,
/// activation on first message, deactivation after an idle period, and a bounded mailbox per activation.
/// </summary>
/// <remarks>
/// This is a concurrency primitive, not a cluster: it never talks to another node. Durable state and
/// cross-node correctness belong to the actors' stores (optimistic concurrency), so a key may be live on
/// two nodes at once without harm. Callers reach actors only through <see cref="AskAsync"/> and
/// <see cref="Tell"/>, which keeps the surface narrow enough for Orleans grains to replace it.
/// </remarks>
public sealed class ActorHost<TKey, TActor> : IAsyncDisposable
    where TKey : notnull
    where TActor : Actor
{
    private readonly ConcurrentDictionary<TKey, Activation<TKey, TActor>> _activations;
    private readonly Func<TKey, TActor> _factory;
    private readonly ActorHostOptions _options;
    private readonly long _idleTimeoutTicks;
    private readonly ITimer _collectionTimer;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Action<Exception> _onTellError;
    private volatile bool _disposed;
    private Task<int> _lastCollection = System.Threading.Tasks.Task.FromResult(0);

    public ActorHost(
        Func<TKey, TActor> factory,
        ActorHostOptions options,
        TimeProvider time,
        ILogger? logger = null,
        IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _factory = factory;
        _options = options;
        Time = time;
        Log = new ActorHostLog(logger ?? NullLogger.Instance);
        _activations = new ConcurrentDictionary<TKey, Activation<TKey, TActor>>(comparer);
        _idleTimeoutTicks = (long)(options.IdleTimeout.TotalSeconds * time.TimestampFrequency);
        _onTellError = ex => Log.OneWayTurnFailed(typeof(TActor).Name, ex);
        _collectionTimer = time.CreateTimer(
            static state => ((ActorHost<TKey, TActor>)state!).OnCollectionTimer(),
            this,
            options.CollectionInterval,
            options.CollectionInterval);
    }

    /// <summary>Activations currently live (a diagnostic; it changes as soon as it is read).</summary>
    public int ActivationCount => _activations.Count;

    /// <summary>The idle collection started by the most recent timer tick; its result is the number deactivated.</summary>
    public Task<int> LastCollection => Volatile.Read(ref _lastCollection);

    internal TimeProvider Time { get; }

    internal ActorHostLog Log { get; }

    internal CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>Whether the key has a live activation right now.</summary>
    public bool IsActive(TKey key) => _activations.ContainsKey(key);

    /// <summary>
    /// Runs <paramref name="turn"/> on the key's activation, after every message sent to it before, and
    /// returns its result. The turn's exception is rethrown to this caller only.
    /// </summary>
    /// <exception cref="MailboxFullException">The activation's mailbox is full.</exception>
    public Task<TResult> AskAsync<TState, TResult>(
        TKey key,
        TState state,
        Func<TActor, TState, CancellationToken, ValueTask<TResult>> turn,
        CancellationToken cancellationToken = default)
    {
        var item = new AskWorkItem<TActor, TState, TResult>(state, turn, cancellationToken);
        Deliver(key, item, throwWhenFull: true);
        return item.Task;
    }

    /// <summary>Sends a one-way message: queued in order with asks, never awaited; failures are logged.</summary>
    /// <exception cref="MailboxFullException">The activation's mailbox is full.</exception>
    public void Tell<TState>(TKey key, TState state, Func<TActor, TState, ValueTask> turn)
        => Deliver(key, new TellWorkItem<TActor, TState>(state, turn, _onTellError), throwWhenFull: true);

    /// <summary>Deactivates every activation idle for at least the idle timeout; returns how many were.</summary>
    public async Task<int> CollectIdleAsync()
    {
        List<Task<bool>>? pending = null;
        foreach (var (_, activation) in _activations)
        {
            if (IsIdle(activation.LastActiveTimestamp) && activation.RequestCollection() is { } request)
            {
                (pending ??= []).Add(request.Completion);
            }
        }

        if (pending is null)
        {
            return 0;
        }

        var results = await System.Threading.Tasks.Task.WhenAll(pending).ConfigureAwait(false);
        return results.Count(static deactivated => deactivated);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _collectionTimer.Dispose();
        var running = new List<Task>();
        foreach (var (_, activation) in _activations)
        {
            activation.Close();
            running.Add(activation.Completion);
        }

        await System.Threading.Tasks.Task.WhenAll(running).ConfigureAwait(false);
        _shutdown.Cancel();
        _shutdown.Dispose();
    }

    internal TActor CreateActor(TKey key) => _factory(key);

    internal bool IsIdle(long lastActiveTimestamp) => Time.GetTimestamp() - lastActiveTimestamp >= _idleTimeoutTicks;

    internal void Remove(Activation<TKey, TActor> activation)
        => _activations.TryRemove(new KeyValuePair<TKey, Activation<TKey, TActor>>(activation.Key, activation));

    /// <summary>Delivers a message that a deactivating activation received too late.</summary>
    internal void Redeliver(TKey key, WorkItem<TActor> item)
    {
        try
        {
            // A message already accepted is never refused for a full mailbox: it waits its turn.
            Deliver(key, item, throwWhenFull: false);
        }
        catch (Exception ex)
        {
            item.Fail(ex);
        }
    }

    private void Deliver(TKey key, WorkItem<TActor> item, bool throwWhenFull)
    {
        var spin = default(SpinWait);
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var activation = _activations.GetOrAdd(
                key,
                static (k, host) => new Activation<TKey, TActor>(host, k, host._options.MailboxCapacity, host.Time.GetTimestamp()),
                this);
            switch (activation.TryEnqueue(item))
            {
                case EnqueueResult.Accepted:
                    return;
                case EnqueueResult.Full when throwWhenFull:
                    throw new MailboxFullException(key.ToString() ?? string.Empty, _options.MailboxCapacity);
                default:
                    // Closed (deactivating: it leaves the directory in a moment) or full during a hand-back.
                    spin.SpinOnce();
                    break;
            }
        }
    }

    private void OnCollectionTimer()
    {
        if (_disposed)
        {
            return;
        }

        var collection = CollectIdleAsync();
        Volatile.Write(ref _lastCollection, collection);
        _ = collection.ContinueWith(
            static (t, state) => ((ActorHostLog)state!).CollectionFailed(t.Exception!),
            Log,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
