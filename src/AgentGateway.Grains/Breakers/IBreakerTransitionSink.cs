using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Grains.Breakers;

/// <summary>
/// Hears every breaker state change, after the change is made and stored (the metrics and alerting hook). The breaker
/// grain calls every sink registered in the silo's services inside its turn, so a sink must not block or do I/O: hand
/// the transition on (e.g. one-way to the alert grain) and return. An exception is logged and does not undo the change.
/// </summary>
public interface IBreakerTransitionSink
{
    void OnTransition(string model, BreakerTransition transition);
}
