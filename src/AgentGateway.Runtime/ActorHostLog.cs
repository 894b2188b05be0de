using Microsoft.Extensions.Logging;

namespace AgentGateway.Runtime;

internal sealed partial class ActorHostLog(ILogger logger)
{
    [LoggerMessage(1, LogLevel.Error, "Activation of {ActorType} '{Key}' failed; waiting messages were failed")]
    private static partial void ActivationFailedCore(ILogger logger, string actorType, object key, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Deactivation of {ActorType} '{Key}' failed")]
    private static partial void DeactivationFailedCore(ILogger logger, string actorType, object key, Exception exception);

    [LoggerMessage(3, LogLevel.Error, "A one-way turn on {ActorType} failed")]
    private static partial void OneWayTurnFailedCore(ILogger logger, string actorType, Exception exception);

    [LoggerMessage(4, LogLevel.Error, "Idle collection failed")]
    private static partial void CollectionFailedCore(ILogger logger, Exception exception);

    public void ActivationFailed(string actorType, object key, Exception exception) => ActivationFailedCore(logger, actorType, key, exception);

    public void DeactivationFailed(string actorType, object key, Exception exception) => DeactivationFailedCore(logger, actorType, key, exception);

    public void OneWayTurnFailed(string actorType, Exception exception) => OneWayTurnFailedCore(logger, actorType, exception);

    public void CollectionFailed(Exception exception) => CollectionFailedCore(logger, exception);
}
