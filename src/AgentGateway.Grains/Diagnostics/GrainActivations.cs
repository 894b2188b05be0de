namespace AgentGateway.Grains.Diagnostics;

/// <summary>
/// The gateway's grain activations on this silo, counted by the grains themselves as they activate and deactivate.
/// </summary>
/// <remarks>
/// Orleans' own per-type counts (the management grain's simple statistics) are kept per process, not per silo, so
/// several silos in one process (tests) would read each other's; these are the silo's own (a singleton of its services).
/// </remarks>
public sealed class GrainActivations
{
    private int _sessions;
    private int _breakers;
    private int _conversations;

    public int Sessions => Volatile.Read(ref _sessions);

    public int Breakers => Volatile.Read(ref _breakers);

    public int Conversations => Volatile.Read(ref _conversations);

    internal void SessionActivated() => Interlocked.Increment(ref _sessions);

    internal void SessionDeactivated() => Interlocked.Decrement(ref _sessions);

    internal void BreakerActivated() => Interlocked.Increment(ref _breakers);

    internal void BreakerDeactivated() => Interlocked.Decrement(ref _breakers);

    /// <summary>Called by the conversation grain, which lives with the WebSocket transport in the host.</summary>
    public void ConversationActivated() => Interlocked.Increment(ref _conversations);

    public void ConversationDeactivated() => Interlocked.Decrement(ref _conversations);
}
