using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Actors.Breakers;

/// <summary>Log messages of breaker actors (source-generated: no formatting cost when the level is off).</summary>
public sealed partial class BreakerActorLog(ILogger<BreakerActor> logger)
{
    [LoggerMessage(200, LogLevel.Warning, "Breaker of model {Model} {From} -> {To} ({Reason}) at {At}; next probe at {NextHalfOpenAt}")]
    private static partial void OpenedCore(ILogger logger, string model, string from, string to, BreakerTransitionReason reason, DateTimeOffset at, DateTimeOffset? nextHalfOpenAt);

    [LoggerMessage(201, LogLevel.Information, "Breaker of model {Model} {From} -> {To} ({Reason}) at {At}")]
    private static partial void ChangedCore(ILogger logger, string model, string from, string to, BreakerTransitionReason reason, DateTimeOffset at);

    [LoggerMessage(202, LogLevel.Debug, "Breaker of model {Model} write conflict at version {Version}; reloading and applying again")]
    private static partial void WriteConflictCore(ILogger logger, string model, long version);

    [LoggerMessage(203, LogLevel.Warning, "Breaker of model {Model}: an outcome was dropped because the actor's mailbox is full")]
    private static partial void ReportDroppedCore(ILogger logger, string model);

    [LoggerMessage(204, LogLevel.Error, "Breaker of model {Model}: the transition sink failed")]
    private static partial void SinkFailedCore(ILogger logger, string model, Exception exception);

    /// <summary>A state change; opening and isolation are warnings, the rest information.</summary>
    public void Transition(string model, BreakerTransition transition, DateTimeOffset? nextHalfOpenAt)
    {
        if (transition.To is BreakerStatus.Open or BreakerStatus.Isolated)
        {
            OpenedCore(logger, model, transition.From.ToWireName(), transition.To.ToWireName(), transition.Reason, transition.At, nextHalfOpenAt);
        }
        else
        {
            ChangedCore(logger, model, transition.From.ToWireName(), transition.To.ToWireName(), transition.Reason, transition.At);
        }
    }

    public void WriteConflict(string model, long version) => WriteConflictCore(logger, model, version);

    public void ReportDropped(string model) => ReportDroppedCore(logger, model);

    public void SinkFailed(string model, Exception exception) => SinkFailedCore(logger, model, exception);
}
