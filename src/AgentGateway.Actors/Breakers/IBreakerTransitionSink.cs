using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;

namespace AgentGateway.Actors.Breakers;

/// <summary>
/// Hears every breaker state change, after the change is made, stored and published (the alerting hook). Called
/// inside the breaker actor's turn, so it must not block or do I/O: hand the transition on (e.g. tell an alert
/// actor) and return. An exception is logged and does not undo the change.
/// </summary>
public interface IBreakerTransitionSink
{
    void OnTransition(string model, BreakerTransition transition);
}

/// <summary>The default sink: nobody listens yet.</summary>
public sealed class NullBreakerTransitionSink : IBreakerTransitionSink
{
    public static readonly NullBreakerTransitionSink Instance = new();

    private NullBreakerTransitionSink()
    {
    }

    public void OnTransition(string model, BreakerTransition transition)
    {
    }
}
