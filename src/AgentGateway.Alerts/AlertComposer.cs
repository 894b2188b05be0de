using AgentGateway.Contracts.Alerts;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance.Breakers;

namespace AgentGateway.Alerts;

/// <summary>Turns governance events into alerts: the text people read, the body machines read, a stable id.</summary>
public sealed class AlertComposer(string node)
{
    /// <summary>This process as alerts name it: <c>machine:pid</c>.</summary>
    public static string ThisNode { get; } = $"{Environment.MachineName}:{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";

    public string Node { get; } = node;

    public Alert SessionTripped(SessionTripped trip)
    {
        ArgumentNullException.ThrowIfNull(trip);
        var reason = trip.Reason.ToWireName() ?? "unknown";
        var cause = trip.Reason switch
        {
            TripReason.TokenVelocity => "runaway token velocity",
            TripReason.LoopLimit => "loop limit",
            _ => reason,
        };
        return new Alert(
            StableId("session", trip.SessionId, reason, trip.At),
            "session:" + trip.SessionId,
            AlertKinds.SessionTripped,
            "critical",
            Subject($"CRITICAL: session {trip.SessionId} terminated ({reason})"),
            $"CRITICAL: Session ID [{trip.SessionId}] terminated due to {cause}",
            new AlertBody(trip.SessionId, trip.Tenant, reason, trip.LoopCount, trip.TokensInWindow, trip.Model, null, Node, trip.At));
    }

    /// <summary>An alert for a breaker opening (or being isolated) or closing; null for transitions nobody is paged for (half-open).</summary>
    public Alert? BreakerTransition(string model, BreakerTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        var state = transition.To.ToWireName();
        var reason = ReasonName(transition.Reason);
        var (kind, severity, text) = transition.To switch
        {
            BreakerStatus.Open => (AlertKinds.BreakerOpened, "critical",
                $"CRITICAL: Circuit breaker for model [{model}] opened ({reason}): calls go to the fallback chain"),
            BreakerStatus.Isolated => (AlertKinds.BreakerOpened, "critical",
                $"CRITICAL: Circuit breaker for model [{model}] isolated by an operator: calls go to the fallback chain"),
            BreakerStatus.Closed => (AlertKinds.BreakerClosed, "resolved",
                $"RESOLVED: Circuit breaker for model [{model}] closed ({reason}): calls flow again"),
            _ => default,
        };
        if (kind is null)
        {
            return null;
        }

        return new Alert(
            StableId("breaker", model, state + "/" + reason, transition.At),
            "breaker:" + model,
            kind,
            severity,
            Subject($"{severity.ToUpperInvariant()}: breaker {model} {state} ({reason})"),
            text,
            new AlertBody(null, null, reason, null, null, model, state, Node, transition.At));
    }

    /// <summary><c>ConsecutiveFailures</c> → <c>consecutive_failures</c>.</summary>
    public static string ReasonName(BreakerTransitionReason reason)
    {
        var name = reason.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static string StableId(string kind, string subject, string reason, DateTimeOffset at)
    {
        var identity = string.Join('\n', kind, subject, reason, at.UtcTicks.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)).AsSpan(0, 16));
    }

    /// <summary>SNS subjects are ASCII without control characters, at most 100 characters.</summary>
    private static string Subject(string text)
    {
        var ascii = new StringBuilder(Math.Min(text.Length, 100));
        foreach (var c in text)
        {
            if (ascii.Length == 100)
            {
                break;
            }

            ascii.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return ascii.ToString();
    }
}
