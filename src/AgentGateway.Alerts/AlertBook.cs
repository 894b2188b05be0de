using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Alerts;

namespace AgentGateway.Alerts;

/// <summary>What <see cref="AlertBook.Accept"/> decided.</summary>
public enum AlertAcceptance
{
    Accepted,

    /// <summary>An alert with this id was seen before (held, or among the recent ids).</summary>
    Duplicate,

    /// <summary>Its key raised <see cref="AlertOptions.RateLimitPerKey"/> alerts within the rate window already.</summary>
    RateLimited,
}

/// <summary>
/// The alert outbox's bookkeeping, with no I/O: the alerts held (recent ones for operators, every undelivered one),
/// the ids seen (dedupe), the per-key rate windows, and each sink's deliveries: which are due, in flight, delivered,
/// or waiting for their backoff. The alert grain owns one and does the storing, the timer and the publishing.
/// </summary>
/// <remarks>Not thread-safe: one grain owns it. Time is passed in by the caller.</remarks>
public sealed class AlertBook(AlertOptions options)
{
    private const int SeenLimit = 10_000;

    private readonly Dictionary<string, AlertRecord> _records = new(StringComparer.Ordinal);

    // The held ids in the order they were kept, oldest first: trimming walks it from the front.
    private readonly LinkedList<string> _order = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private readonly Dictionary<string, Queue<DateTimeOffset>> _rate = new(StringComparer.Ordinal);

    /// <summary>Whether some sink has an alert still to deliver.</summary>
    public bool HasPending => _records.Values.Any(static r => r.IsPending);

    /// <summary>Decides on a new alert: it is remembered (so a second raise is a duplicate) unless a duplicate itself.</summary>
    public AlertAcceptance Accept(Alert alert, DateTimeOffset now, bool rateLimited = true)
    {
        if (_records.ContainsKey(alert.MessageId) || _seen.Contains(alert.MessageId))
        {
            return AlertAcceptance.Duplicate;
        }

        Remember(alert.MessageId);
        return rateLimited && !TryTakeRate(alert.Key, now) ? AlertAcceptance.RateLimited : AlertAcceptance.Accepted;
    }

    /// <summary>A new record for an accepted alert: due to every sink now.</summary>
    public static AlertRecord NewRecord(Alert alert, IEnumerable<string> sinks, string node, DateTimeOffset now) => new()
    {
        Alert = alert,
        StoredAt = now,
        Node = node,
        Deliveries = [.. sinks.Select(s => new SinkDelivery { Sink = s, NextAttemptAt = now })],
    };

    /// <summary>Holds a record (stored, or read back from the store) and forgets the oldest delivered ones beyond the limit.</summary>
    public void Keep(AlertRecord record)
    {
        if (_records.TryAdd(record.Alert.MessageId, record))
        {
            _order.AddLast(record.Alert.MessageId);
            Remember(record.Alert.MessageId);
        }

        Trim();
    }

    /// <summary>Marks every delivery of <paramref name="sink"/> due at <paramref name="now"/> in flight and returns their alerts, oldest first.</summary>
    public List<Alert>? TakeDue(string sink, DateTimeOffset now)
    {
        List<Alert>? due = null;
        foreach (var record in _records.Values.OrderBy(static r => r.StoredAt))
        {
            if (record.Delivery(sink) is { DeliveredAt: null, InFlight: false } delivery && delivery.NextAttemptAt <= now)
            {
                delivery.InFlight = true;
                (due ??= []).Add(record.Alert);
            }
        }

        return due;
    }

    /// <summary>
    /// A sink accepted the alert; false when nothing changed: the alert or its delivery is not held, or it was delivered
    /// already (a second report of one delivery must not count, or be written, twice).
    /// </summary>
    /// <remarks>
    /// Accepted even when the delivery is not in flight here: a publish started by an earlier activation that reports
    /// after this one reloaded the record did reach the sink.
    /// </remarks>
    public bool Delivered(string messageId, string sink, DateTimeOffset now)
    {
        if (!_records.TryGetValue(messageId, out var record) || record.Delivery(sink) is not { DeliveredAt: null } delivery)
        {
            return false;
        }

        delivery.InFlight = false;
        delivery.Attempts++;
        delivery.LastAttemptAt = now;
        delivery.DeliveredAt = now;
        delivery.LastError = null;
        Trim();
        return true;
    }

    /// <summary>
    /// A publish failed: the delivery waits for its backoff. The record (to store again), or null when nothing changed:
    /// the alert or its delivery is not held, already delivered, or not in flight here (a late report of a publish an
    /// earlier activation started: this one schedules its own attempts).
    /// </summary>
    public AlertRecord? Failed(string messageId, string sink, string error, DateTimeOffset now)
    {
        if (!_records.TryGetValue(messageId, out var record) || record.Delivery(sink) is not { DeliveredAt: null, InFlight: true } delivery)
        {
            return null;
        }

        delivery.InFlight = false;
        delivery.Attempts++;
        delivery.LastAttemptAt = now;
        delivery.LastError = error;
        delivery.NextAttemptAt = now + Backoff(delivery.Attempts);
        return record;
    }

    /// <summary>Base × 2^(attempt−1), capped: 1 s, 2 s, 4 s … 5 min with the defaults. No jitter: one outbox publishes.</summary>
    public TimeSpan Backoff(int attempts)
    {
        var exponent = Math.Min(attempts - 1, 30);
        var ticks = Math.Min((double)options.RetryBaseDelay.Ticks * Math.Pow(2, exponent), options.RetryMaxDelay.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>When the next delivery not in flight falls due; null when none is waiting.</summary>
    public DateTimeOffset? NextDue()
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

        return next;
    }

    /// <summary>The alerts held, newest first, with each sink's delivery.</summary>
    public IReadOnlyList<AlertView> Snapshot() => _records.Values
        .OrderByDescending(static r => r.StoredAt)
        .ThenBy(static r => r.Alert.MessageId, StringComparer.Ordinal)
        .Select(static r => r.ToView())
        .ToList();

    /// <summary>Forgets rate windows that have emptied (called with each flush so idle keys do not pile up).</summary>
    public void PruneRates(DateTimeOffset now)
    {
        List<string>? idle = null;
        foreach (var (key, stamps) in _rate)
        {
            if (stamps.Count == 0 || stamps.Last() <= now - options.RateLimitWindow)
            {
                (idle ??= []).Add(key);
            }
        }

        idle?.ForEach(k => _rate.Remove(k));
    }

    private bool TryTakeRate(string key, DateTimeOffset now)
    {
        if (!_rate.TryGetValue(key, out var stamps))
        {
            _rate[key] = stamps = new Queue<DateTimeOffset>();
        }

        while (stamps.TryPeek(out var oldest) && oldest <= now - options.RateLimitWindow)
        {
            stamps.Dequeue();
        }

        if (stamps.Count >= options.RateLimitPerKey)
        {
            return false;
        }

        stamps.Enqueue(now);
        return true;
    }

    /// <summary>
    /// Forgets the oldest delivered alerts beyond the recent limit (their ids stay in the dedupe set). Undelivered ones
    /// are passed over, never forgotten: one alert stuck on a sink that is down must not keep every later delivered
    /// alert in memory behind it.
    /// </summary>
    private void Trim()
    {
        var node = _order.First;
        while (_records.Count > options.RecentLimit && node is not null)
        {
            var next = node.Next;
            if (!_records.TryGetValue(node.Value, out var record) || !record.IsPending)
            {
                _records.Remove(node.Value);
                _order.Remove(node);
            }

            node = next;
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
