using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Runtime;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Alerts;

/// <summary>
/// The node's one alert actor: dedupes, rate-limits per key, stores each alert in the outbox, and publishes it to every
/// sink in batches on a timer, retrying failed publishes with exponential backoff. Reporters only <c>Tell</c> it.
/// </summary>
/// <remarks>
/// Publishing never runs inside a turn: a flush marks the due deliveries in flight and starts one task per sink, which
/// publishes the sink's batch in order and tells each outcome back to the actor. So the mailbox keeps moving while a
/// sink is slow, and all state (records, rate windows, the timer) is touched only in turns. One timer serves both the
/// batch window and the retries: it is armed for the earliest moment something falls due.
/// </remarks>
public sealed class AlertActor : Actor
{
    private const int SeenLimit = 10_000;

    private readonly AlertOptions _options;
    private readonly IAlertOutboxStore _store;
    private readonly IReadOnlyList<IAlertSink> _sinks;
    private readonly TimeProvider _time;
    private readonly IAlertObserver _observer;
    private readonly ILogger _logger;
    private readonly Action<Func<AlertActor, ValueTask>> _post;
    private readonly CancellationToken _shutdown;
    private readonly string _node;

    private readonly Dictionary<string, AlertRecord> _records = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private readonly Dictionary<string, Queue<DateTimeOffset>> _rate = new(StringComparer.Ordinal);
    private ITimer? _timer;
    private DateTimeOffset? _timerDueAt;
    private int _batched;

    internal AlertActor(
        AlertOptions options,
        IAlertOutboxStore store,
        IReadOnlyList<IAlertSink> sinks,
        TimeProvider time,
        IAlertObserver observer,
        ILogger logger,
        Action<Func<AlertActor, ValueTask>> post,
        CancellationToken shutdown,
        string node)
    {
        _node = node;
        _options = options;
        _store = store;
        _sinks = sinks;
        _time = time;
        _observer = observer;
        _logger = logger;
        _post = post;
        _shutdown = shutdown;
    }

    /// <summary>Stays active while anything is undelivered: its retry timer lives here.</summary>
    public override bool CanDeactivate => !_records.Values.Any(static r => r.IsPending);

    /// <summary>
    /// Loads what the outbox holds: the recent alerts (for the admin view) and every pending one this node delivers
    /// (its own, and unowned ones), due now. Another node's pending alerts stay with it: they are adopted only once
    /// that node is gone (<see cref="AdoptAsync"/>).
    /// </summary>
    public override async ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        _timer = _time.CreateTimer(static state => ((AlertActor)state!)._post(static a => a.OnTimerAsync()), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        try
        {
            var now = _time.GetUtcNow();
            var recent = await _store.ListRecentAsync(_options.RecentLimit, cancellationToken).ConfigureAwait(false);
            var pending = await _store.ListPendingAsync(cancellationToken).ConfigureAwait(false);
            var kept = recent.Reverse().Concat(pending)
                .DistinctBy(static r => r.Alert.MessageId)
                .Where(r => !r.IsPending || Owned(r))
                .ToList();
            foreach (var record in kept)
            {
                foreach (var delivery in record.Deliveries.Where(static d => d.DeliveredAt is null))
                {
                    delivery.NextAttemptAt = now;
                }

                Keep(record);
            }

            var ownPending = kept.Count(static r => r.IsPending);
            AlertLog.Recovered(_logger, ownPending);
            if (ownPending > 0)
            {
                Flush();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            AlertLog.RecoveryFailed(_logger, ex);
        }
    }

    public override ValueTask OnDeactivateAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Accepts an alert: dropped if seen before or over its key's rate; else stored, then published with the next batch.</summary>
    internal async ValueTask RaiseAsync(Alert alert)
    {
        var id = alert.MessageId;
        if (_records.ContainsKey(id) || _seen.Contains(id))
        {
            Suppress(alert, "duplicate");
            return;
        }

        Remember(id);
        var now = _time.GetUtcNow();
        if (!TryTakeRate(alert.Key, now))
        {
            Suppress(alert, "rate_limited");
            return;
        }

        if (await TryStoreAsync(alert, now).ConfigureAwait(false))
        {
            ScheduleBatch(now);
        }
    }

    /// <summary>
    /// Takes over the undelivered alerts of nodes that are gone: each is moved to this node with a conditional write
    /// (of two nodes adopting one alert, one wins), then published with the next batch. Returns how many were adopted.
    /// </summary>
    internal async ValueTask<int> AdoptAsync(IReadOnlyCollection<string> deadNodes)
    {
        var now = _time.GetUtcNow();
        var adopted = 0;
        foreach (var record in await _store.ListPendingAsync(_shutdown).ConfigureAwait(false))
        {
            if (record.Node is not { } from || !deadNodes.Contains(from)
                || !await _store.TryTransferAsync(record.Alert.MessageId, from, _node, _shutdown).ConfigureAwait(false))
            {
                continue;
            }

            record.Node = _node;
            foreach (var delivery in record.Deliveries.Where(static d => d.DeliveredAt is null))
            {
                delivery.NextAttemptAt = now;
            }

            _records.Remove(record.Alert.MessageId);
            Keep(record);
            adopted++;
        }

        if (adopted > 0)
        {
            AlertLog.Adopted(_logger, adopted, string.Join(", ", deadNodes));
            Flush();
        }

        return adopted;
    }

    /// <summary>
    /// Raises the alerts of trips that have none in the outbox (their node crashed between writing the trip and storing
    /// its alert): stored only if absent, so an alert raised elsewhere meanwhile is not raised twice. No rate limit:
    /// each is a trip nobody was told of. Returns how many were raised.
    /// </summary>
    internal async ValueTask<int> ReconcileAsync(IReadOnlyList<Alert> alerts)
    {
        var now = _time.GetUtcNow();
        var raised = 0;
        foreach (var alert in alerts)
        {
            if (_records.ContainsKey(alert.MessageId) || _seen.Contains(alert.MessageId))
            {
                continue;
            }

            Remember(alert.MessageId);
            if (await TryStoreAsync(alert, now).ConfigureAwait(false))
            {
                raised++;
            }
        }

        if (raised > 0)
        {
            AlertLog.Reconciled(_logger, raised);
            ScheduleBatch(now);
        }

        return raised;
    }

    /// <summary>Stores a new alert as this node's (unless another node stored it first) and keeps it for publishing.</summary>
    private async ValueTask<bool> TryStoreAsync(Alert alert, DateTimeOffset now)
    {
        var record = new AlertRecord
        {
            Alert = alert,
            StoredAt = now,
            Node = _node,
            Deliveries = _sinks.Select(s => new SinkDelivery { Sink = s.Name, NextAttemptAt = now }).ToList(),
        };
        try
        {
            if (!await _store.TryAddAsync(record, _shutdown).ConfigureAwait(false))
            {
                // Another node raised it first (the same trip seen twice, or a reconcile racing the raise): it delivers.
                Suppress(alert, "duplicate");
                return false;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Better an alert published without an outbox entry than no alert.
            AlertLog.StoreFailed(_logger, alert.MessageId, ex);
        }

        Keep(record);
        _observer.Raised(alert.Kind);
        return true;
    }

    private void ScheduleBatch(DateTimeOffset now)
    {
        if (_options.BatchWindow <= TimeSpan.Zero || ++_batched >= _options.MaxBatchSize)
        {
            Flush();
        }
        else
        {
            ArmAt(now + _options.BatchWindow, now);
        }
    }

    private bool Owned(AlertRecord record) => record.Node is null || string.Equals(record.Node, _node, StringComparison.Ordinal);

    /// <summary>The alerts in memory, newest first, with each sink's delivery.</summary>
    internal IReadOnlyList<AlertView> Snapshot() => _records.Values
        .OrderByDescending(static r => r.StoredAt)
        .ThenBy(static r => r.Alert.MessageId, StringComparer.Ordinal)
        .Select(static r => AlertView.Of(r))
        .ToList();

    private ValueTask OnTimerAsync()
    {
        _timerDueAt = null;
        Flush();
        return ValueTask.CompletedTask;
    }

    /// <summary>Starts one publishing task per sink for every delivery due now, then arms the timer for the next retry.</summary>
    private void Flush()
    {
        _batched = 0;
        var now = _time.GetUtcNow();
        PruneRates(now);
        foreach (var sink in _sinks)
        {
            List<Alert>? due = null;
            foreach (var record in _records.Values.OrderBy(static r => r.StoredAt))
            {
                if (record.Delivery(sink.Name) is { DeliveredAt: null, InFlight: false } delivery && delivery.NextAttemptAt <= now)
                {
                    delivery.InFlight = true;
                    (due ??= []).Add(record.Alert);
                }
            }

            if (due is not null)
            {
                _ = Task.Run(() => PublishAsync(sink, due), CancellationToken.None);
            }
        }

        ArmNextRetry(now);
    }

    /// <summary>Outside any turn: publishes the batch to one sink in order and tells the actor each outcome.</summary>
    private async Task PublishAsync(IAlertSink sink, List<Alert> batch)
    {
        foreach (var alert in batch)
        {
            string? error = null;
            try
            {
                using var timeout = new CancellationTokenSource(_options.PublishTimeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _shutdown);
                try
                {
                    await sink.PublishAsync(alert, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_shutdown.IsCancellationRequested)
                {
                    error = $"no answer within {_options.PublishTimeout}";
                }
            }
            catch (Exception ex) when (!_shutdown.IsCancellationRequested)
            {
                error = ex is HttpRequestException http ? $"{http.HttpRequestError}: {http.Message}" : ex.Message;
            }
            catch (Exception) when (_shutdown.IsCancellationRequested)
            {
                return;
            }

            var id = alert.MessageId;
            var name = sink.Name;
            _post(error is null ? a => a.OnDeliveredAsync(id, name) : a => a.OnFailedAsync(id, name, error));
        }
    }

    private async ValueTask OnDeliveredAsync(string messageId, string sink)
    {
        if (!_records.TryGetValue(messageId, out var record) || record.Delivery(sink) is not { } delivery)
        {
            return;
        }

        var now = _time.GetUtcNow();
        delivery.InFlight = false;
        delivery.Attempts++;
        delivery.LastAttemptAt = now;
        delivery.DeliveredAt = now;
        delivery.LastError = null;
        try
        {
            await _store.MarkDeliveredAsync(messageId, sink, now, _shutdown).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            AlertLog.MarkFailed(_logger, messageId, sink, ex);
        }

        _observer.Delivered(sink);

        Trim();
    }

    private async ValueTask OnFailedAsync(string messageId, string sink, string error)
    {
        if (!_records.TryGetValue(messageId, out var record) || record.Delivery(sink) is not { } delivery)
        {
            return;
        }

        var now = _time.GetUtcNow();
        delivery.InFlight = false;
        delivery.Attempts++;
        delivery.LastAttemptAt = now;
        delivery.LastError = error;
        var delay = Backoff(delivery.Attempts);
        delivery.NextAttemptAt = now + delay;
        AlertLog.PublishFailed(_logger, messageId, sink, delivery.Attempts, delay, error);
        try
        {
            await _store.PutAsync(record, _shutdown).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            AlertLog.StoreFailed(_logger, messageId, ex);
        }

        _observer.Failed(sink);
        ArmAt(delivery.NextAttemptAt, now);
    }

    /// <summary>Base × 2^(attempt−1), capped: 1 s, 2 s, 4 s … 5 min with the defaults. No jitter: one node, one actor.</summary>
    internal TimeSpan Backoff(int attempts)
    {
        var exponent = Math.Min(attempts - 1, 30);
        var ticks = Math.Min((double)_options.RetryBaseDelay.Ticks * Math.Pow(2, exponent), _options.RetryMaxDelay.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }

    private void ArmNextRetry(DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var record in _records.Values)
        {
            foreach (var d in record.Deliveries)
            {
                if (d is { DeliveredAt: null, InFlight: false } && (next is null || d.NextAttemptAt < next))
                {
                    next = d.NextAttemptAt;
                }
            }
        }

        if (next is { } at)
        {
            ArmAt(at, now);
        }
    }

    /// <summary>Arms the timer for <paramref name="at"/> unless it already falls due no later.</summary>
    private void ArmAt(DateTimeOffset at, DateTimeOffset now)
    {
        if (_timerDueAt is { } armed && armed <= at)
        {
            return;
        }

        _timerDueAt = at;
        var due = at - now;
        _timer!.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private bool TryTakeRate(string key, DateTimeOffset now)
    {
        if (!_rate.TryGetValue(key, out var stamps))
        {
            _rate[key] = stamps = new Queue<DateTimeOffset>();
        }

        while (stamps.TryPeek(out var oldest) && oldest <= now - _options.RateLimitWindow)
        {
            stamps.Dequeue();
        }

        if (stamps.Count >= _options.RateLimitPerKey)
        {
            return false;
        }

        stamps.Enqueue(now);
        return true;
    }

    private void PruneRates(DateTimeOffset now)
    {
        List<string>? idle = null;
        foreach (var (key, stamps) in _rate)
        {
            if (stamps.Count == 0 || stamps.Last() <= now - _options.RateLimitWindow)
            {
                (idle ??= []).Add(key);
            }
        }

        idle?.ForEach(k => _rate.Remove(k));
    }

    private void Suppress(Alert alert, string why)
    {
        _observer.Suppressed(alert.Kind, why);
        AlertLog.Suppressed(_logger, alert.MessageId, alert.Kind, alert.Key, why);
    }

    private void Keep(AlertRecord record)
    {
        if (_records.TryAdd(record.Alert.MessageId, record))
        {
            _order.Enqueue(record.Alert.MessageId);
            Remember(record.Alert.MessageId);
        }

        Trim();
    }

    /// <summary>Forgets the oldest delivered alerts beyond the recent limit (their ids stay in the dedupe set).</summary>
    private void Trim()
    {
        while (_records.Count > _options.RecentLimit && _order.TryPeek(out var oldest))
        {
            if (_records.TryGetValue(oldest, out var record) && record.IsPending)
            {
                break;
            }

            _order.Dequeue();
            _records.Remove(oldest);
        }
    }

    private void Remember(string id)
    {
        if (!_seen.Add(id))
        {
            return;
        }

        _seenOrder.Enqueue(id);
        if (_seenOrder.Count > SeenLimit)
        {
            _seen.Remove(_seenOrder.Dequeue());
        }
    }
}
