namespace AgentGateway.Alerts.Outbox;

/// <summary>
/// Where alerts wait to be published. An alert is put before any sink sees it; a sink's delivered mark is written
/// after the sink accepted it. Narrow on purpose: a DynamoDB table (one item per alert, a map of deliveries) fits it.
/// </summary>
public interface IAlertOutboxStore
{
    /// <summary>Stores the record (insert or replace: attempts and errors change on each failed attempt).</summary>
    Task PutAsync(AlertRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores the record only if no alert with its message id is stored yet (a conditional insert in a shared store:
    /// of two nodes raising the same alert, one wins and delivers it). True when stored.
    /// </summary>
    Task<bool> TryAddAsync(AlertRecord record, CancellationToken cancellationToken = default);

    /// <summary>Marks one sink's delivery of the alert done.</summary>
    Task MarkDeliveredAsync(string messageId, string sink, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Every record that some sink has not yet delivered.</summary>
    Task<IReadOnlyList<AlertRecord>> ListPendingAsync(CancellationToken cancellationToken = default);

    /// <summary>The most recently stored records, newest first.</summary>
    Task<IReadOnlyList<AlertRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken = default);
}
