using Microsoft.Extensions.Logging;

namespace AgentGateway.Alerts;

/// <summary>What the alert actor logs (source-generated).</summary>
internal static partial class AlertLog
{
    [LoggerMessage(310, LogLevel.Warning, "Alert {MessageId} ({Kind}, key {Key}) suppressed: {Why}")]
    public static partial void Suppressed(ILogger logger, string messageId, string kind, string key, string why);

    [LoggerMessage(311, LogLevel.Warning, "Alert {MessageId} to {Sink} failed (attempt {Attempt}); next attempt in {Delay}: {Error}")]
    public static partial void PublishFailed(ILogger logger, string messageId, string sink, int attempt, TimeSpan delay, string error);

    [LoggerMessage(312, LogLevel.Error, "The alert outbox could not store alert {MessageId}; it is published from memory only")]
    public static partial void StoreFailed(ILogger logger, string messageId, Exception exception);

    [LoggerMessage(313, LogLevel.Error, "The alert outbox could not mark alert {MessageId} delivered to {Sink}; a restart may publish it again (same message id)")]
    public static partial void MarkFailed(ILogger logger, string messageId, string sink, Exception exception);

    [LoggerMessage(314, LogLevel.Information, "Alert outbox recovered: {Pending} alert(s) still to deliver")]
    public static partial void Recovered(ILogger logger, int pending);

    [LoggerMessage(315, LogLevel.Error, "The alert outbox could not be read; alerts still pending in it are not delivered until the next start")]
    public static partial void RecoveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(316, LogLevel.Warning, "Adopted {Count} undelivered alert(s) of node(s) no longer alive: {Nodes}")]
    public static partial void Adopted(ILogger logger, int count, string nodes);

    [LoggerMessage(317, LogLevel.Warning, "Raised {Count} alert(s) for trips that had none in the outbox (a node stopped between the trip and its alert)")]
    public static partial void Reconciled(ILogger logger, int count);
}
