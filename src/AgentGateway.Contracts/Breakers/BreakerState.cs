namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// The durable form of one breaker (<see cref="IBreakerStore"/>), so it survives a restart. Only primitive fields
/// and arrays, so it can take serializer attributes unchanged. The half-open probes out are kept too, so every node
/// sharing the store sees the same slots: the probes out across the cluster never exceed the configured maximum. A
/// probe whose node died is freed by the probe timeout (it re-opens the breaker).
/// </summary>
/// <param name="Name">The key (e.g. the model id).</param>
/// <param name="Version">Incremented by every write, for optimistic concurrency in a store.</param>
/// <param name="Status">The state.</param>
/// <param name="ChangedAt">When the state last changed.</param>
/// <param name="NextHalfOpenAt">While open: when the next caller gets a probe.</param>
/// <param name="BreakDuration">The current break (doubles on each re-open from half-open).</param>
/// <param name="ConsecutiveFailures">Failures in a row while closed.</param>
/// <param name="OpenCount">Times opened since made or reset.</param>
/// <param name="WindowBuckets">Bucket numbers of the sampling window (UTC time / bucket width).</param>
/// <param name="WindowSuccesses">Successes in each bucket, parallel to <paramref name="WindowBuckets"/>.</param>
/// <param name="WindowFailures">Failures in each bucket, parallel to <paramref name="WindowBuckets"/>.</param>
/// <param name="UpdatedAt">Time of the export.</param>
/// <param name="ProbeTickets">While half-open: the tickets of the probes out (null or empty: none).</param>
/// <param name="ProbeAcquiredAt">When each probe went out (UTC ticks), parallel to <paramref name="ProbeTickets"/>.</param>
/// <param name="LastTicket">The last ticket handed out, so tickets stay unique across the nodes sharing the breaker.</param>
[GenerateSerializer]
public sealed record BreakerState(
    [property: Id(0)] string Name,
    [property: Id(1)] long Version,
    [property: Id(2)] BreakerStatus Status,
    [property: Id(3)] DateTimeOffset? ChangedAt,
    [property: Id(4)] DateTimeOffset? NextHalfOpenAt,
    [property: Id(5)] TimeSpan BreakDuration,
    [property: Id(6)] int ConsecutiveFailures,
    [property: Id(7)] long OpenCount,
    [property: Id(8)] long[] WindowBuckets,
    [property: Id(9)] int[] WindowSuccesses,
    [property: Id(10)] int[] WindowFailures,
    [property: Id(11)] DateTimeOffset UpdatedAt,
    [property: Id(12)] long[]? ProbeTickets = null,
    [property: Id(13)] long[]? ProbeAcquiredAt = null,
    [property: Id(14)] long LastTicket = 0);
