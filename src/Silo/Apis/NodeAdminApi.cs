using System.Diagnostics;
using System.Runtime;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Conversations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// <c>GET /admin/node</c>: what one node holds right now (session grain activations) and what it costs in
/// memory and threads, for capacity measurements. Loopback callers only, like every admin endpoint.
/// </summary>
/// <remarks>
/// <c>?gc=true</c> first runs a full, blocking, compacting collection (twice, with the finalizers between),
/// so the heap figures count live objects only: the load generator reads it before and after creating
/// sessions to work out the bytes each one keeps. It stops the node for as long as the collection takes.
/// </remarks>
public static class NodeAdminApi
{
    public static IEndpointRouteBuilder MapNodeAdminApi(this IEndpointRouteBuilder app)
    {
        // Uptime runs on the node's clock from when the endpoint was mapped (the node's start), like all its time.
        var time = app.ServiceProvider.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        var admin = app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(AdminApi.LoopbackOnly);
        admin.MapGet("/node", (GrainActivations activations, GatewayNode node, ChatConversations chats, bool gc = false) =>
            GetNode(node, activations.Sessions, chats, time.GetElapsedTime(started), gc));
        return app;
    }

    public static Ok<NodeStats> GetNode(GatewayNode node, int sessionActivations, ChatConversations chats, TimeSpan uptime, bool gc = false)
    {
        if (gc)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        using var process = Process.GetCurrentProcess();
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        return TypedResults.Ok(new NodeStats(
            node.Id,
            Math.Round(uptime.TotalSeconds, 1),
            sessionActivations,
            chats.ConversationCount,
            chats.SocketCount,
            OpenFiles(),
            new NodeMemory(
                gc,
                GC.GetTotalMemory(forceFullCollection: false),
                info.HeapSizeBytes,
                info.FragmentedBytes,
                info.TotalCommittedBytes,
                GC.GetTotalAllocatedBytes(precise: false),
                [.. info.GenerationInfo.ToArray().Select(static g => g.SizeAfterBytes)],
                [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(GC.CollectionCount)],
                GCSettings.IsServerGC,
                Environment.WorkingSet,
                process.PrivateMemorySize64),
            new NodeThreads(ThreadPool.ThreadCount, minWorkers, ThreadPool.PendingWorkItemCount, process.Threads.Count)));
    }

    /// <summary>The node's identity (machine and process id), uptime, live activations, memory and threads.</summary>
    public sealed record NodeStats(
        string Node,
        double UptimeSeconds,
        int SessionActivations,
        int Conversations,
        int Sockets,
        NodeFiles? Files,
        NodeMemory Memory,
        NodeThreads Threads);

    /// <summary>
    /// Descriptors open and the soft limit (Linux; null elsewhere). Every socket is one: the limit, not CPU or
    /// memory, is what caps the concurrent streams one node holds (docs/benchmarks.md §6).
    /// </summary>
    public sealed record NodeFiles(int Open, long? Limit);

    private static NodeFiles? OpenFiles()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var open = Directory.GetFiles("/proc/self/fd").Length;
            long? limit = null;
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    limit = long.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var soft) ? soft : null;
                }
            }

            return new NodeFiles(open, limit);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>GcHeapBytes</c> is <see cref="GC.GetTotalMemory(bool)"/> (live objects after the last collection plus
    /// what was allocated since); <c>HeapSizeBytes</c>, <c>FragmentedBytes</c>, <c>CommittedBytes</c> and the
    /// generation sizes are from the last collection (<see cref="GC.GetGCMemoryInfo()"/>); generations are
    /// gen0, gen1, gen2, large objects, pinned objects.
    /// </summary>
    public sealed record NodeMemory(
        bool GcForced,
        long GcHeapBytes,
        long HeapSizeBytes,
        long FragmentedBytes,
        long CommittedBytes,
        long AllocatedBytesTotal,
        long[] GenerationSizeBytes,
        int[] Collections,
        bool ServerGc,
        long WorkingSetBytes,
        long PrivateBytes);

    /// <summary>Thread-pool threads now, its configured minimum, work items waiting, and all threads of the process.</summary>
    public sealed record NodeThreads(int ThreadPoolThreads, int ThreadPoolMinThreads, long PendingWorkItems, int ProcessThreads);
}
