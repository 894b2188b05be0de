using Orleans.Concurrency;

namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// One model's circuit breaker (key: the served model entry's name, replicas included, e.g. <c>haiku@us-west-2</c>).
/// Its one activation decides every change of state and hands out every half-open probe, so probes are bounded across
/// the cluster. Silos read a local <see cref="BreakerView"/> on the hot path: the grain pushes it to subscribers
/// (<see cref="IBreakerObserver"/>) and returns it with every answer.
/// </summary>
public interface IBreakerGrain : IGrainWithStringKey
{
    /// <summary>The slow path of admission (half-open, an elapsed break, or a silo with no view yet).</summary>
    Task<BreakerGrant> AcquireAsync();

    /// <summary>Counts outcomes in the order given: a silo's batch of closed-state outcomes, or one probe's outcome.</summary>
    Task<BreakerView> ReportAsync(BreakerReport[] reports);

    /// <summary>The breaker as the admin API shows it.</summary>
    [ReadOnly]
    Task<BreakerReply> GetAsync();

    /// <summary>Operator: force open until closed.</summary>
    Task<BreakerReply> IsolateAsync();

    /// <summary>Operator: force closed with fresh counts.</summary>
    Task<BreakerReply> CloseAsync();

    /// <summary>Operator: back to a new breaker (closed, open count 0).</summary>
    Task<BreakerReply> ResetAsync();

    /// <summary>
    /// Subscribes <paramref name="observer"/> to the view's changes, or renews its subscription; the current view. A
    /// subscription lapses after <see cref="BreakerSubscription.Expiry"/> unless renewed.
    /// </summary>
    Task<BreakerView> SubscribeAsync(IBreakerObserver observer);

    Task UnsubscribeAsync(IBreakerObserver observer);
}

/// <summary>How long a silo's subscription to a breaker grain lasts, and how often silos renew it.</summary>
public static class BreakerSubscription
{
    /// <summary>
    /// A subscription not renewed for this long is dropped: a silo that died without unsubscribing stops being told.
    /// Three renewal periods, so two lost renewals in a row still keep a live silo subscribed.
    /// </summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(3);

    /// <summary>
    /// How often a silo renews its subscriptions (on its own clock). Also how long a silo may go unsubscribed after the
    /// grain moved to a new activation while that silo sent it nothing (a silo that calls it resubscribes at once).
    /// </summary>
    public static readonly TimeSpan RenewalPeriod = TimeSpan.FromMinutes(1);
}
