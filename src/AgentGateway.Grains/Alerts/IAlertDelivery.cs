using Orleans.Concurrency;

namespace AgentGateway.Grains.Alerts;

/// <summary>
/// How the alert grain's publishing tasks, which run outside its turns, report each outcome back into a turn: the same
/// activation, through its own reference.
/// </summary>
public interface IAlertDelivery : IGrainWithStringKey
{
    [OneWay]
    Task DeliveredAsync(string messageId, string sink);

    [OneWay]
    Task FailedAsync(string messageId, string sink, string error);
}
