using AgentGateway.Contracts.Storage;

namespace AgentGateway.Actors.Storage;

/// <summary>
/// An actor's hold on its stored state: the version it last read or wrote, conditional writes against it, and
/// a stale mark after a write whose outcome is unknown, so the next turn reads the store before deciding.
/// One piece serves every actor whose state goes through an <see cref="IVersionedStore{TState}"/>.
/// </summary>
/// <remarks>Not thread-safe: one actor owns it and uses it inside its turns.</remarks>
public sealed class StoredVersion<TState>(
    IVersionedStore<TState> store,
    string key,
    Func<TState, long> versionOf,
    Action<string, long> onConflict)
    where TState : class
{
    /// <summary>The version held (0: nothing stored).</summary>
    public long Version { get; private set; }

    /// <summary>A write failed or lost its race: what the actor holds is not what is stored.</summary>
    public bool IsStale { get; private set; }

    /// <summary>
    /// Reads the stored state. <c>Changed</c> is true when it differs from what the actor held (or the hold was
    /// stale): the actor must then load <c>Stored</c> (null: start empty).
    /// </summary>
    public async ValueTask<(bool Changed, TState? Stored)> ReadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync(key, cancellationToken).ConfigureAwait(false);
        var version = stored is null ? 0 : versionOf(stored);
        var changed = version != Version || IsStale;
        Version = version;
        IsStale = false;
        return (changed, stored);
    }

    /// <summary>Writes <paramref name="next"/> (built at <see cref="Version"/> + 1) if nothing was written since; false on a conflict.</summary>
    public async ValueTask<bool> TryWriteAsync(TState next, CancellationToken cancellationToken)
    {
        bool written;
        try
        {
            written = await store.TryWriteAsync(next, Version, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            IsStale = true;
            throw;
        }

        if (written)
        {
            Version = versionOf(next);
        }
        else
        {
            // The actor's state already holds the decision that was not written: it must be replaced by what is
            // stored at the next read even if the stored version looks the same (e.g. the item vanished, or a
            // store that refuses without moving the version), or the unwritten decision would be acted on.
            IsStale = true;
            onConflict(key, Version);
        }

        return written;
    }
}
