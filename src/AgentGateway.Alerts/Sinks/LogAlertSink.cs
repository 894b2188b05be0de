using AgentGateway.Contracts.Alerts;
using System.Text.Json;
using AgentGateway.Alerts.Outbox;
using Microsoft.Extensions.Logging;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Alerts.Sinks;

/// <summary>The embedded default: each alert is one log entry (critical, or information when resolved) with its body.</summary>
public sealed partial class LogAlertSink(ILogger<LogAlertSink> logger) : IAlertSink
{
    public string Name => AlertSinkNames.Log;

    public Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var body = JsonSerializer.Serialize(alert.Body, AlertJson.Default.AlertBody);
        if (alert.Severity == "resolved")
        {
            Resolved(logger, alert.Text, alert.MessageId, body);
        }
        else
        {
            Critical(logger, alert.Text, alert.MessageId, body);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(LogEvents.Alerts + 50, LogLevel.Critical, "{AlertText} (alert {MessageId}) {AlertBody}")]
    private static partial void Critical(ILogger logger, string alertText, string messageId, string alertBody);

    [LoggerMessage(LogEvents.Alerts + 51, LogLevel.Information, "{AlertText} (alert {MessageId}) {AlertBody}")]
    private static partial void Resolved(ILogger logger, string alertText, string messageId, string alertBody);
}
