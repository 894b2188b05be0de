namespace AgentGateway.Grains.Breakers;

/// <summary>
/// Once the silo is active (its storage ready, grains callable), subscribes its <see cref="ModelBreakers"/> to every
/// served model's breaker grain, so the views are here before the web server takes its first request; unsubscribes as
/// the silo stops, while grains can still be called.
/// </summary>
internal sealed class BreakerSubscriptions(ModelBreakers breakers) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
        nameof(BreakerSubscriptions),
        ServiceLifecycleStage.Active,
        breakers.StartAsync,
        breakers.StopAsync);
}
