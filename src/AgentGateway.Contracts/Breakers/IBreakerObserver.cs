using Orleans.Concurrency;

namespace AgentGateway.Contracts.Breakers;

/// <summary>A silo's ear for breaker grains: each subscribed grain pushes its view whenever it changes.</summary>
public interface IBreakerObserver : IGrainObserver
{
    /// <summary>The breaker's view changed (one-way: the grain's turn never waits for a silo).</summary>
    [OneWay]
    Task ViewChanged(BreakerView view);
}
