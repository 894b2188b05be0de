using System.Runtime.InteropServices;

namespace AgentGateway.LoadGen.Node;

/// <summary>
/// The open-file limit (<c>RLIMIT_NOFILE</c>) of this process: every client socket is a descriptor, so N sessions need
/// N plus a few dozen. The soft limit is raised up to the hard one if needed; beyond the hard limit only
/// <c>ulimit -Hn</c> (as root) helps, and the run goes on with connect failures counted.
/// </summary>
internal static partial class FileLimits
{
    private const int RlimitNoFile = 7; // Linux

    /// <summary>Makes room for <paramref name="needed"/> descriptors if the hard limit allows; returns a note for the report.</summary>
    public static string Ensure(long needed)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "open-file limit not checked (not Linux)";
        }

        if (GetRlimit(RlimitNoFile, out var limit) != 0)
        {
            return "open-file limit unknown (getrlimit failed)";
        }

        if ((long)limit.Current >= needed)
        {
            return $"open files: soft {limit.Current}, hard {limit.Maximum}, needed ~{needed}";
        }

        var target = Math.Min((ulong)needed, limit.Maximum);
        var raised = new Rlimit { Current = target, Maximum = limit.Maximum };
        var ok = SetRlimit(RlimitNoFile, in raised) == 0;
        var note = ok
            ? $"open files: soft limit raised {limit.Current} -> {target} (hard {limit.Maximum}), needed ~{needed}"
            : $"open files: could not raise the soft limit {limit.Current} (hard {limit.Maximum}), needed ~{needed}";
        if (target < (ulong)needed)
        {
            note += $"; WARNING: the hard limit is below what {needed} descriptors need: raise it (ulimit -Hn, as root) or expect connect failures";
        }

        return note;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRlimit(int resource, out Rlimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRlimit(int resource, in Rlimit limit);
}
