using AgentGateway.Contracts.Alerts;
using System.Collections.Concurrent;

namespace AgentGateway.Alerts.Outbox;

/// <summary>An outbox in memory (tests, and nodes that accept losing unsent alerts on a crash). Keeps copies.</summary>
public sealed class InMemoryAlertOutboxStore : IAlertOutboxStore
{
    private readonly ConcurrentDictionary<string, AlertRecord> _records = new(StringComparer.Ordinal);

    public Task PutAsync(AlertRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        _records[record.Alert.MessageId] = record.Copy();
        return Task.CompletedTask;
    }

    public Task<bool> TryAddAsync(AlertRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Task.FromResult(_records.TryAdd(record.Alert.MessageId, record.Copy()));
    }

    public Task MarkDeliveredAsync(string messageId, string sink, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        _records.AddOrUpdate(
            messageId,
            static (id, _) => throw new KeyNotFoundException($"No alert '{id}' in the outbox."),
            static (_, record, state) => OutboxRecords.WithDelivered(record, state.sink, state.at),
            (sink, at));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AlertRecord>> ListPendingAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<AlertRecord>>(_records.Values.Where(static r => r.IsPending).OrderBy(static r => r.StoredAt).Select(static r => r.Copy()).ToList());

    public Task<IReadOnlyList<AlertRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<AlertRecord>>(OutboxRecords.Recent(_records.Values, limit).Select(static r => r.Copy()).ToList());
}

internal static class OutboxRecords
{
    /// <summary>A copy of the record with the sink's delivery marked done.</summary>
    public static AlertRecord WithDelivered(AlertRecord record, string sink, DateTimeOffset at)
    {
        var copy = record.Copy();
        var delivery = copy.Delivery(sink) ?? throw new KeyNotFoundException($"Alert '{record.Alert.MessageId}' has no delivery to '{sink}'.");
        if (delivery.DeliveredAt is null)
        {
            // The successful attempt: the failed ones before it were counted when they were put.
            delivery.Attempts++;
            delivery.LastAttemptAt = at;
            delivery.DeliveredAt = at;
            delivery.LastError = null;
        }

        return copy;
    }

    public static IEnumerable<AlertRecord> Recent(IEnumerable<AlertRecord> records, int limit) =>
        records.OrderByDescending(static r => r.StoredAt).ThenBy(static r => r.Alert.MessageId, StringComparer.Ordinal).Take(limit);
}
