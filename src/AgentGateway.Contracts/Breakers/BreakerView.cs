namespace AgentGateway.Contracts.Breakers;

/// <summary>
/// One model's breaker as a silo's hot path needs it: pushed by the breaker grain to every subscribed silo
/// (<see cref="IBreakerObserver"/>) and returned with every answer the grain gives a silo.
/// </summary>
/// <remarks>
/// Pushes and answers may arrive in any order, so a silo keeps a view only if it <see cref="Supersedes"/> the one it
/// holds: within one activation the higher <see cref="Version"/> wins. A view of another activation always wins: the
/// silo only ever asks the grain's current activation, and a late view of an earlier one (rare: that activation is gone)
/// makes the silo subscribe again, whose answer is the current activation's view.
/// </remarks>
/// <param name="Model">The model's canonical name (the grain's key).</param>
/// <param name="Status">The state.</param>
/// <param name="Epoch">The generation a closed-state lease carries; an outcome from an older one is not counted.</param>
/// <param name="NextHalfOpenAt">While open: from when a caller gets a probe (and so must ask the grain).</param>
/// <param name="Version">Grows with every change of this view within <paramref name="Activation"/>.</param>
/// <param name="Activation">Identifies the grain activation that made the view (random per activation).</param>
[GenerateSerializer, Immutable]
public sealed record BreakerView(
    [property: Id(0)] string Model,
    [property: Id(1)] BreakerStatus Status,
    [property: Id(2)] long Epoch,
    [property: Id(3)] DateTimeOffset? NextHalfOpenAt,
    [property: Id(4)] long Version,
    [property: Id(5)] long Activation)
{
    /// <summary>Whether this view should replace <paramref name="current"/> (see the remarks).</summary>
    public bool Supersedes(BreakerView? current) =>
        current is null || Activation != current.Activation || Version > current.Version;
}
