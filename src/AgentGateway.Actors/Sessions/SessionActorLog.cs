using AgentGateway.Contracts.Sessions;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Actors.Sessions;

/// <summary>
/// What session actors report: log messages (source-generated: no formatting cost when the level is off) and,
/// when a sink is given, trips and resumes to it (alerts). One instance is shared by every session actor.
/// </summary>
public sealed partial class SessionActorLog(ILogger<SessionActor> logger, ISessionEventSink? events = null)
{
    [LoggerMessage(100, LogLevel.Warning, "Session {SessionId} tripped: {TripReason} (loops {LoopCount}, tokens in window {TokensInWindow})")]
    private static partial void TrippedCore(ILogger logger, string sessionId, string? tripReason, int loopCount, long tokensInWindow);

    [LoggerMessage(101, LogLevel.Information, "Session {SessionId} resumed by an operator")]
    private static partial void ResumedCore(ILogger logger, string sessionId);

    [LoggerMessage(103, LogLevel.Information, "Session {SessionId} ended by an operator")]
    private static partial void EndedCore(ILogger logger, string sessionId);

    [LoggerMessage(102, LogLevel.Debug, "Session {SessionId} write conflict at version {Version}; reloading and deciding again")]
    private static partial void WriteConflictCore(ILogger logger, string sessionId, long version);

    public void Tripped(string sessionId, TripReason reason, int loopCount, long tokensInWindow, DateTimeOffset at, string? tenant = null, string? model = null)
    {
        TrippedCore(logger, sessionId, reason.ToWireName(), loopCount, tokensInWindow);
        events?.Tripped(new SessionTripped(sessionId, reason, loopCount, tokensInWindow, at, tenant, model));
    }

    public void Resumed(string sessionId, DateTimeOffset at)
    {
        ResumedCore(logger, sessionId);
        events?.Resumed(sessionId, at);
    }

    public void Ended(string sessionId) => EndedCore(logger, sessionId);

    public void WriteConflict(string sessionId, long version) => WriteConflictCore(logger, sessionId, version);

    /// <summary>
    /// <see cref="WriteConflict"/> as one delegate shared by every session actor: a method group converted per actor
    /// costs each idle session 64 bytes.
    /// </summary>
    public Action<string, long> WriteConflictCallback => _writeConflict ??= WriteConflict;

    private Action<string, long>? _writeConflict;
}
