using AgentGateway.Contracts.Breakers;

namespace AgentGateway.Actors.Breakers;

/// <summary>
/// What this node last knew of one model's breaker: the immutable <see cref="BreakerView"/> its actor published
/// after its latest turn that changed anything. The hot path reads it without a lock and without a message.
/// </summary>
/// <remarks>
/// Only the model's actor writes it (one turn at a time); readers see either the old view or the new one, never a
/// mix, because a view is one reference swapped whole. Null until the actor's first turn has loaded the stored
/// state: until then every caller asks the actor.
/// </remarks>
public sealed class LocalBreakerView(string model)
{
    private volatile BreakerView? _current;

    /// <summary>The model's canonical name (the actor's key).</summary>
    public string Model { get; } = model;

    /// <summary>The latest published view; null before the actor first loaded.</summary>
    public BreakerView? Current => _current;

    /// <summary>Publishes a view unless it says what the current one says (no allocation when nothing changed).</summary>
    internal void Publish(BreakerStatus status, long epoch, DateTimeOffset? nextHalfOpenAt)
    {
        var current = _current;
        if (current is null || current.Status != status || current.Epoch != epoch || current.NextHalfOpenAt != nextHalfOpenAt)
        {
            _current = new BreakerView(Model, status, epoch, nextHalfOpenAt);
        }
    }
}

/// <summary>One model's breaker as the hot path needs it.</summary>
/// <param name="Model">The model's canonical name.</param>
/// <param name="Status">The state.</param>
/// <param name="Epoch">The generation a closed-state lease carries; an outcome from an older one is not counted.</param>
/// <param name="NextHalfOpenAt">While open: from when a caller gets a probe (and so must ask the actor).</param>
public sealed record BreakerView(string Model, BreakerStatus Status, long Epoch, DateTimeOffset? NextHalfOpenAt);
