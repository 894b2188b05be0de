namespace AgentGateway.Runtime;

/// <summary>
/// Base class of an actor: an object whose methods only ever run one at a time, inside turns scheduled by
/// an <see cref="ActorHost{TKey, TActor}"/>. Actor code therefore needs no locks.
/// </summary>
/// <remarks>
/// Turns are not reentrant: a turn runs to completion, awaits included, before the next one starts.
/// An actor must never ask itself (directly or through another actor) and await the answer inside a turn;
/// that waits on its own mailbox forever.
/// </remarks>
public abstract class Actor
{
    /// <summary>Runs once, as the first turn, before any message is processed.</summary>
    public virtual ValueTask OnActivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Whether an idle activation may be collected now (read inside a turn). An actor that owns live resources
    /// outside its turns (open sockets, a running call) keeps itself alive by returning false.
    /// </summary>
    public virtual bool CanDeactivate => true;

    /// <summary>Runs once, as the last turn, when the host collects an idle activation or shuts down.</summary>
    public virtual ValueTask OnDeactivateAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
