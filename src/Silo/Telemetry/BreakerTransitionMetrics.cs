using AgentGateway.Contracts.Breakers;
using AgentGateway.Grains.Breakers;

namespace AgentGateway.Silo.Telemetry;

/// <summary>Counts breaker transitions (<c>gateway_breaker_transitions_total{model,to,reason}</c>); no I/O.</summary>
public sealed class BreakerTransitionMetrics(GatewayMetrics metrics) : IBreakerTransitionSink
{
    public void OnTransition(string model, BreakerTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        metrics.BreakerTransition(model, transition.To.ToWireName(), transition.Reason.ToString());
    }
}
