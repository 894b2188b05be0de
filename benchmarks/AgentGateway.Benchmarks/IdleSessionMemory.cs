using System.Globalization;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Benchmarks;

/// <summary>
/// Memory an idle session keeps on a silo (<c>--idle-memory [sessions]</c>; not a BenchmarkDotNet run): N session grains
/// are activated through <see cref="ISessionGrain.AdmitAsync"/> (one admitted model call each, then idle), a full blocking
/// collection runs, and the live heap's growth divided by N is the cost of one session.
/// </summary>
/// <remarks>
/// Two stores split the figure: a store that keeps nothing gives the grain and its activation (Orleans' activation data,
/// its catalog and directory entries, the persistent-state bridge, the governor); the <see cref="InMemorySessionStore"/>
/// adds the stored <see cref="SessionState"/>. Each variant runs in a fresh one-silo host (<see cref="BenchSilo"/>); the
/// heap is read with <c>GC.GetTotalMemory(true)</c> after a forced compacting collection. A breakdown by part then
/// measures the bytes each of the gateway's own pieces allocates when built alone
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>): exact sizes of the objects, not of what stays live.
/// </remarks>
internal static class IdleSessionMemory
{
    private const int DefaultSessions = 100_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var sessions = args.Length > 0 && int.TryParse(args[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : DefaultSessions;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Idle session memory: {sessions:N0} sessions, one admitted call each; GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, {Environment.ProcessorCount} CPUs"));

        // A warm-up run JITs every path (and grows nothing that the measured runs keep).
        await MeasureAsync(new NullSessionStore(), 1_000).ConfigureAwait(false);

        var bare = await MeasureAsync(new NullSessionStore(), sessions).ConfigureAwait(false);
        var stored = await MeasureAsync(new InMemorySessionStore(), sessions).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine("| what | bytes per idle session |");
        Console.WriteLine("|---|--:|");
        Print("grain + activation (store keeps nothing)", bare);
        Print("stored state in InMemorySessionStore (difference)", stored - bare);
        Print("**total with InMemorySessionStore**", stored);

        Console.WriteLine();
        Console.WriteLine("Breakdown: bytes allocated to build each part alone (exact object sizes):");
        Console.WriteLine("| part | bytes |");
        Console.WriteLine("|---|--:|");
        foreach (var (part, bytes) in Parts())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {part} | {bytes:N0} |"));
        }

        return 0;
    }

    private static void Print(string what, double bytes)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {bytes:N0} |"));

    /// <summary>Live heap growth per session after activating <paramref name="count"/> sessions.</summary>
    private static async Task<double> MeasureAsync(ISessionStore store, int count)
    {
        // Ids are built before the first reading: the id string is the caller's (the request's), not the session's.
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = "idle-session-" + i.ToString("D7", CultureInfo.InvariantCulture);
        }

        var silo = await BenchSilo.StartAsync(store, new GovernanceOptions()).ConfigureAwait(false);
        var turn = new TurnInfo(TurnKind.UserMessage, TaskFingerprint.Compute(1, "Say hello."), 40);

        // One session first, so the silo's own one-time allocations (grain type, JIT) are not counted per session.
        await silo.Grains.GetGrain<ISessionGrain>("idle-warm-up").AdmitAsync(turn).ConfigureAwait(false);
        var before = FullCollection();
        for (var i = 0; i < count; i++)
        {
            var admission = await silo.Grains.GetGrain<ISessionGrain>(ids[i]).AdmitAsync(turn).ConfigureAwait(false);
            if (!admission.Allowed)
            {
                throw new InvalidOperationException($"Session {ids[i]} was refused ({admission.TripReason}).");
            }
        }

        var after = FullCollection();
        var active = silo.Activations.Sessions - 1;
        var perSession = (after - before) / (double)count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {store.GetType().Name,-22} {count,9:N0} sessions  activations {active,9:N0}  heap {before / 1048576.0,8:N1} -> {after / 1048576.0,8:N1} MiB  = {perSession,7:N0} B/session"));
        GC.KeepAlive(ids);
        await silo.DisposeAsync().ConfigureAwait(false);
        GC.KeepAlive(store);
        return perSession;
    }

    private static long FullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static IEnumerable<(string Part, long Bytes)> Parts()
    {
        var options = new GovernanceOptions();
        var now = DateTimeOffset.UtcNow;
        var turn = new TurnInfo(TurnKind.UserMessage, TaskFingerprint.Compute(1, "Say hello."), 40);
        yield return ("`RollingWindow<long>` (60 s in 10 buckets: two arrays of 10)", Allocated(() => new RollingWindow<long>(options.Window, options.WindowBuckets)));
        yield return ("`Queue<ulong>(16)` (recent task fingerprints, sized up front)", Allocated(() => new Queue<ulong>(options.RecentTasks)));
        yield return ("`Queue<ulong>()` holding one task (grows 4, 8, 16)", Allocated(() =>
        {
            var queue = new Queue<ulong>();
            queue.Enqueue(1);
            return queue;
        }));
        yield return ("`SessionGovernor` (with its window and queue)", Allocated(() => new SessionGovernor("s", options)));
        var governor = new SessionGovernor("s", options);
        governor.TryAdmit(turn, now);
        yield return ("`SessionState` snapshot after one call (`ToState`: record + 3 arrays)", Allocated(() => governor.ToState(1, now)));
    }

    private static long Allocated(Func<object> build)
    {
        GC.KeepAlive(build()); // JIT and statics first
        var before = GC.GetAllocatedBytesForCurrentThread();
        var built = build();
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(built);
        return bytes;
    }

    /// <summary>A store that keeps nothing (every write succeeds, every read finds nothing): the grain's cost alone.</summary>
    private sealed class NullSessionStore : ISessionStore
    {
        public ValueTask<SessionState?> ReadAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult<SessionState?>(null);

        public ValueTask<bool> TryWriteAsync(SessionState state, long expectedVersion, CancellationToken cancellationToken) => ValueTask.FromResult(true);
    }
}
