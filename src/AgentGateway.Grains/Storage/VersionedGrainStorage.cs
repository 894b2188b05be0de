using AgentGateway.Contracts.Storage;
using Orleans.Storage;

namespace AgentGateway.Grains.Storage;

/// <summary>
/// Grain storage over one of the gateway's versioned stores (<see cref="IVersionedStore{TState}"/>: in memory, or a
/// DynamoDB table with conditional writes): the stored version is the ETag, and a write whose version moved on is an
/// <see cref="InconsistentStateException"/>, as Orleans' own providers report it.
/// </summary>
/// <remarks>
/// Written by hand because the gateway's stores predate the grains and keep what Orleans' providers do not: the
/// session catalog (listing by status for operators) and TTL on the same items. The key is the grain's string key.
/// </remarks>
public sealed class VersionedGrainStorage<TState>(
    IVersionedStore<TState> store,
    Func<TState, long> versionOf,
    Func<TState, long, TState> withVersion) : IGrainStorage
    where TState : class
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = await store.ReadAsync(grainId.Key.ToString()!, CancellationToken.None).ConfigureAwait(false);
        if (stored is null)
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.State = (T)(object)stored;
        grainState.ETag = ETagOf(versionOf(stored));
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var expected = VersionOf(grainState.ETag);
        var next = withVersion((TState)(object)grainState.State!, expected + 1);
        if (!await store.TryWriteAsync(next, expected, CancellationToken.None).ConfigureAwait(false))
        {
            throw new InconsistentStateException(
                $"{typeof(TState).Name} '{grainId.Key}' was written elsewhere since version {expected}.", null, grainState.ETag);
        }

        grainState.State = (T)(object)next;
        grainState.ETag = ETagOf(expected + 1);
        grainState.RecordExists = true;
    }

    /// <summary>The gateway's state is never cleared: a session's id stays taken and a breaker keeps its history.</summary>
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        throw new NotSupportedException($"{typeof(TState).Name} state is never cleared.");

    private static string ETagOf(long version) => version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static long VersionOf(string? etag) =>
        etag is null ? 0 : long.Parse(etag, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
}
