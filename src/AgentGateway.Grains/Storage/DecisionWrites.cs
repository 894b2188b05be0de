using Orleans.Storage;

namespace AgentGateway.Grains.Storage;

/// <summary>How a grain stores a decision it just made, before it answers.</summary>
internal static class DecisionWrites
{
    /// <summary>
    /// Writes <paramref name="next"/>. False when the store refused it (another writer moved the stored state on): the
    /// grain's memory then holds a decision that is not stored, so the activation is dropped and the next call reads
    /// the stored state. On any other failure it is dropped too (whether the write landed is unknown) and the error is
    /// thrown.
    /// </summary>
    public static async Task<bool> TryWriteAsync<TState>(this IGrainBase grain, IPersistentState<TState> state, TState next, Action<string?> onConflict)
    {
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException ex)
        {
            onConflict(ex.CurrentEtag);
            Drop(grain);
            return false;
        }
        catch
        {
            Drop(grain);
            throw;
        }

        return true;
    }

    /// <summary>An application error: the grain's deactivation must not store what it holds (it is not what is stored).</summary>
    private static void Drop(IGrainBase grain) =>
        grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "its stored state moved on or could not be written"));
}
