using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Grains.Breakers;

/// <summary>Tells every sink of each transition (metrics and alerts); one sink's exception does not keep it from the others.</summary>
public sealed class CompositeBreakerTransitionSink(IEnumerable<IBreakerTransitionSink> sinks) : IBreakerTransitionSink
{
    private readonly IBreakerTransitionSink[] _sinks = [.. sinks];

    public void OnTransition(string model, BreakerTransition transition)
    {
        List<Exception>? errors = null;
        foreach (var sink in _sinks)
        {
            try
            {
                sink.OnTransition(model, transition);
            }
            catch (Exception ex)
            {
                (errors ??= []).Add(ex);
            }
        }

        if (errors is not null)
        {
            throw new AggregateException("A breaker transition sink failed.", errors);
        }
    }
}
