using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Logging;
using AgentGateway.Contracts.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentGateway.Grains.Alerts;

/// <summary>
/// The alert outbox as a grain: composes alerts from governance events, stores each in the outbox before any sink sees
/// it, and publishes to every sink in batches on a grain timer, retrying failures with backoff. The bookkeeping is an
/// <see cref="AlertBook"/>; this grain does the storing, the timer, the reminder and the publishing.
/// </summary>
/// <remarks>
/// <para>
/// The outbox is the <see cref="IAlertOutboxStore"/> (a file per alert in the embedded default, a DynamoDB item in
/// durable mode), not one grain state: a raise writes one small record, and a conditional insert dedupes an alert that
/// two processes raise, where one state holding every alert would be rewritten whole on each raise.
/// </para>
/// <para>
/// Publishing never runs inside a turn: a flush marks the due deliveries in flight and starts one task per sink, which
/// publishes that sink's batch in order and reports each outcome back through <see cref="IAlertDelivery"/>. So callers
/// (a session grain waiting for its trip's alert to be stored) never wait behind a slow SNS.
/// </para>
/// <para>
/// While anything is undelivered a reminder is registered, so a deactivated outbox is brought back to deliver it; the
/// host also activates the grain at start (<see cref="RecoverAsync"/>) to deliver what a previous run left.
/// </para>
/// </remarks>
public sealed partial class AlertGrain(
    IOptions<AlertOptions> options,
    IAlertOutboxStore store,
    IEnumerable<IAlertSink> sinks,
    AlertComposer composer,
    IEnumerable<IAlertObserver> observers,
    TimeProvider time,
    ILogger<AlertGrain> logger) : Grain, IAlertGrain, IAlertDelivery, IRemindable
{
    /// <summary>The reminder registered while anything is undelivered.</summary>
    public const string ReminderName = "undelivered";

    private readonly AlertOptions _options = options.Value;
    private readonly IAlertSink[] _sinks = [.. sinks];
    private readonly CompositeAlertObserver _observer = new(observers);
    private readonly AlertBook _book = new(options.Value);
    private readonly CancellationTokenSource _stopping = new();
    private IGrainTimer? _timer;
    private DateTimeOffset? _timerDueAt;
    private int _batched;
    private bool _reminded;

    // The outbox was read; until then what it holds is unknown, and the reminder stays to read it again.
    private bool _loaded;

    /// <summary>Registers the timer, reads what the reminder is now, and loads the outbox.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        await ReadReminderAsync();
        await LoadAsync(cancellationToken);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    public Task RecoverAsync() => Task.CompletedTask;

    public Task SessionTrippedAsync(SessionTripped tripped) => RaiseAsync(composer.SessionTripped(tripped));

    public Task EnsureTripAlertedAsync(SessionTripped tripped) => RaiseAsync(composer.SessionTripped(tripped), recheck: true);

    public Task BreakerTransitionedAsync(string model, BreakerTransition transition) =>
        composer.BreakerTransition(model, transition) is { } alert ? RaiseAsync(alert) : Task.CompletedTask;

    public Task<IReadOnlyList<AlertView>> ListAsync() => Task.FromResult(_book.Snapshot());

    /// <summary>
    /// A tick of the undelivered reminder: this activation (or the one the tick brought back, which delivered what it
    /// loaded as it activated) publishes whatever is due, and a reminder left over with nothing undelivered is removed.
    /// An outbox that could not be read when the grain activated is read again.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_loaded)
        {
            Flush();
            await RemindWhilePendingAsync();
        }
        else
        {
            await LoadAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Loads the recent alerts (for operators) and every undelivered one, due now, whichever node raised it: this grain
    /// is the outbox's one deliverer, and after a restart (a new process id) or a silo loss the node that raised an alert
    /// is gone. Then the reminder is made to match: kept while anything is undelivered, or while the outbox could not
    /// be read (each tick reads it again).
    /// </summary>
    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var now = time.GetUtcNow();
            var recent = await store.ListRecentAsync(_options.RecentLimit, cancellationToken);
            var pending = await store.ListPendingAsync(cancellationToken);
            var kept = recent.Reverse().Concat(pending).DistinctBy(static r => r.Alert.MessageId).ToList();
            foreach (var record in kept)
            {
                foreach (var delivery in record.Deliveries.Where(static d => d.DeliveredAt is null))
                {
                    delivery.NextAttemptAt = now;
                }

                _book.Keep(record);
            }

            _loaded = true;
            var undelivered = kept.Count(static r => r.IsPending);
            LogRecovered(undelivered);
            if (undelivered > 0)
            {
                Flush();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRecoveryFailed(ex);
        }

        await RemindWhilePendingAsync();
    }

    /// <summary>
    /// Dropped if seen before or over its key's rate; else stored, then published with the next batch. A
    /// <paramref name="recheck"/> (an event that may have been raised already) takes no rate and, when the alert exists,
    /// changes and counts nothing.
    /// </summary>
    private async Task RaiseAsync(Alert alert, bool recheck = false)
    {
        var now = time.GetUtcNow();
        var accepted = _book.Accept(alert, now, rateLimited: !recheck);
        if (accepted != AlertAcceptance.Accepted)
        {
            if (!recheck)
            {
                Suppress(alert, accepted == AlertAcceptance.Duplicate ? "duplicate" : "rate_limited");
            }

            return;
        }

        var record = AlertBook.NewRecord(alert, _sinks.Select(static s => s.Name), composer.Node, now);
        try
        {
            if (!await store.TryAddAsync(record, _stopping.Token))
            {
                // Stored before (the same trip re-reported after its alert left the recent ones, or raised by another
                // process sharing the store): the stored record is the one delivered.
                if (!recheck)
                {
                    Suppress(alert, "duplicate");
                }

                return;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Better an alert published without an outbox entry than no alert.
            LogStoreFailed(alert.MessageId, ex);
        }

        _book.Keep(record);
        _observer.Raised(alert.Kind);
        await RemindWhilePendingAsync();
        if (_options.BatchWindow <= TimeSpan.Zero || ++_batched >= _options.MaxBatchSize)
        {
            Flush();
        }
        else
        {
            ArmAt(now + _options.BatchWindow, now);
        }
    }

    private Task OnTimerAsync(CancellationToken cancellationToken)
    {
        _timerDueAt = null;
        Flush();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts one publishing task per sink for every delivery due now, then arms the timer for the next retry. Nothing
    /// becomes delivered or undelivered here, so the reminder stays as it is.
    /// </summary>
    private void Flush()
    {
        _batched = 0;
        var now = time.GetUtcNow();
        _book.PruneRates(now);
        var self = this.AsReference<IAlertDelivery>();
        foreach (var sink in _sinks)
        {
            if (_book.TakeDue(sink.Name, now) is { } due)
            {
                _ = Task.Run(() => PublishAsync(self, sink, due), CancellationToken.None);
            }
        }

        if (_book.NextDue() is { } next)
        {
            ArmAt(next, now);
        }
    }

    /// <summary>Outside any turn: publishes one sink's batch in order and reports each outcome back into a turn.</summary>
    private async Task PublishAsync(IAlertDelivery self, IAlertSink sink, List<Alert> batch)
    {
        var stopping = _stopping.Token;
        foreach (var alert in batch)
        {
            string? error = null;
            try
            {
                using var timeout = new CancellationTokenSource(_options.PublishTimeout, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
                try
                {
                    await sink.PublishAsync(alert, linked.Token);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
                {
                    error = $"no answer within {_options.PublishTimeout}";
                }
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                error = ex is HttpRequestException http ? $"{http.HttpRequestError}: {http.Message}" : ex.Message;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }

            await (error is null ? self.DeliveredAsync(alert.MessageId, sink.Name) : self.FailedAsync(alert.MessageId, sink.Name, error));
        }
    }

    public async Task DeliveredAsync(string messageId, string sink)
    {
        var now = time.GetUtcNow();
        if (!_book.Delivered(messageId, sink, now))
        {
            return;
        }

        try
        {
            await store.MarkDeliveredAsync(messageId, sink, now, _stopping.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogMarkFailed(messageId, sink, ex);
        }

        _observer.Delivered(sink);
        await RemindWhilePendingAsync();
    }

    public async Task FailedAsync(string messageId, string sink, string error)
    {
        var now = time.GetUtcNow();
        if (_book.Failed(messageId, sink, error, now) is not { } record)
        {
            return;
        }

        var delivery = record.Delivery(sink)!;
        LogPublishFailed(messageId, sink, delivery.Attempts, delivery.NextAttemptAt - now, error);
        try
        {
            await store.PutAsync(record, _stopping.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStoreFailed(messageId, ex);
        }

        _observer.Failed(sink);
        ArmAt(delivery.NextAttemptAt, now);
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

    /// <summary>Whether the reminder is registered now (a previous activation's, or none after a restart of in-memory reminders).</summary>
    private async Task ReadReminderAsync()
    {
        try
        {
            _reminded = await this.GetReminder(ReminderName) is not null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Taken as absent: the next change registers it (an update when it does exist).
            _reminded = false;
            LogReminderFailed(ex);
        }
    }

    /// <summary>A reminder while anything is undelivered (or the outbox is unread), none otherwise.</summary>
    private async Task RemindWhilePendingAsync()
    {
        var pending = !_loaded || _book.HasPending;
        if (pending == _reminded)
        {
            return;
        }

        _reminded = pending;
        try
        {
            if (pending)
            {
                await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
            }
            else if (await this.GetReminder(ReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _reminded = !pending;
            LogReminderFailed(ex);
        }
    }

    private void Suppress(Alert alert, string why)
    {
        _observer.Suppressed(alert.Kind, why);
        LogSuppressed(alert.MessageId, alert.Kind, alert.Key, why);
    }

    [LoggerMessage(LogEvents.Alerts + 0, LogLevel.Warning, "Alert {MessageId} ({Kind}, key {Key}) suppressed: {Why}")]
    private partial void LogSuppressed(string messageId, string kind, string key, string why);

    [LoggerMessage(LogEvents.Alerts + 1, LogLevel.Warning, "Alert {MessageId} to {Sink} failed (attempt {Attempt}); next attempt in {Delay}: {Error}")]
    private partial void LogPublishFailed(string messageId, string sink, int attempt, TimeSpan delay, string error);

    [LoggerMessage(LogEvents.Alerts + 2, LogLevel.Error, "The alert outbox could not store alert {MessageId}; it is published from memory only")]
    private partial void LogStoreFailed(string messageId, Exception exception);

    [LoggerMessage(LogEvents.Alerts + 3, LogLevel.Error, "The alert outbox could not mark alert {MessageId} delivered to {Sink}; a restart may publish it again (same message id)")]
    private partial void LogMarkFailed(string messageId, string sink, Exception exception);

    [LoggerMessage(LogEvents.Alerts + 4, LogLevel.Information, "Alert outbox recovered: {Pending} alert(s) still to deliver")]
    private partial void LogRecovered(int pending);

    [LoggerMessage(LogEvents.Alerts + 5, LogLevel.Error, "The alert outbox could not be read; alerts still pending in it are delivered once it is read (tried again at each reminder tick)")]
    private partial void LogRecoveryFailed(Exception exception);

    [LoggerMessage(LogEvents.Alerts + 6, LogLevel.Warning, "The alert outbox's reminder could not be changed; it is tried again with the next delivery")]
    private partial void LogReminderFailed(Exception exception);
}
