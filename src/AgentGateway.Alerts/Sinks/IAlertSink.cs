using AgentGateway.Contracts.Alerts;
namespace AgentGateway.Alerts.Sinks;

/// <summary>
/// Somewhere alerts are published. A publish either succeeds (the alert is marked delivered to this sink) or throws
/// (it is retried later with backoff). Implementations do their I/O here and nowhere else.
/// </summary>
public interface IAlertSink
{
    /// <summary>The sink's name (<see cref="AlertSinkNames"/>): its key in the outbox and its metrics label.</summary>
    string Name { get; }

    Task PublishAsync(Alert alert, CancellationToken cancellationToken);
}

/// <summary>A sink answered with a failure status.</summary>
public sealed class AlertPublishException(string message) : Exception(message);
