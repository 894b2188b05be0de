namespace AgentGateway.Governance;

/// <summary>
/// A stable 64-bit hash (FNV-1a) identifying the human message that began a task: the same message at the
/// same position hashes alike on every node and after every restart, unlike <see cref="string.GetHashCode()"/>.
/// </summary>
public static class TaskFingerprint
{
    private const ulong OffsetBasis = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    /// <param name="userMessageOrdinal">The message's position among the conversation's user messages (1-based).</param>
    /// <param name="text">The message's text.</param>
    /// <returns>A non-zero fingerprint (0 means "no task").</returns>
    public static ulong Compute(int userMessageOrdinal, ReadOnlySpan<char> text)
    {
        var hash = OffsetBasis;
        hash = Mix(hash, (uint)userMessageOrdinal);
        foreach (var c in text)
        {
            hash = Mix(hash, c);
        }

        return hash == 0 ? 1 : hash;
    }

    private static ulong Mix(ulong hash, uint value)
    {
        for (var i = 0; i < 4; i++)
        {
            hash ^= (byte)(value >> (8 * i));
            hash *= Prime;
        }

        return hash;
    }
}
