using System.Globalization;
using System.Text.Json.Nodes;

namespace AgentGateway.LoadGen.Reporting;

/// <summary>
/// <c>agent-loadgen table REPORT.json...</c>: one Markdown row per <c>ws</c> report (a level of a ladder), the table
/// docs/benchmarks.md records. Reads only what this tool wrote.
/// </summary>
internal static class WsTable
{
    public static int Print(IReadOnlyList<string> paths, TextWriter output)
    {
        output.WriteLine("| sessions | connected | open at hold end | streaming at hold end (min during hold) | stalled in hold | tokens/s | node CPU (cores) | node RSS: before → end (per session) | node GC heap after full GC: before → end (per session) | node threads | connect failures | closes by server | socket / server errors | load generator CPU | others' CPU | connect p50 / p99 ms | first token p50 / p99 ms |");
        output.WriteLine("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var path in paths)
        {
            var report = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var r = report["result"]!.AsObject();
            var node = r["node"]!.AsObject();
            var open = (long)r["openAtHoldEnd"]!;
            var rssBefore = Long(node["rssBytesBeforeRamp"]);
            var rssEnd = Long(node["rssBytesAtHoldEnd"]);
            var heapBefore = Long(node["adminBeforeRamp"]?["memory"]?["gcHeapBytes"]);
            var heapEnd = Long(node["adminAfterFullGc"]?["memory"]?["gcHeapBytes"]);
            var serverCloses = r["closes"]!.AsObject().Where(c => c.Key.StartsWith("server-closed", StringComparison.Ordinal)).ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(long)r["sessionsStarted"]!:N0} | {(long)r["sessionsConnected"]!:N0} | {open:N0} | {(long)r["streamingAtHoldEnd"]!:N0} ({(long)r["minStreamingDuringHold"]!:N0}) | {(long)r["sessionsThatStalledDuringHold"]!:N0} | {(double)r["tokensPerSecondDuringHold"]!:N0} | {Num(node["cpuCoresDuringHold"], "N2")} | {Mib(rssBefore)} → {Mib(rssEnd)} ({PerSession(rssBefore, rssEnd, open)}) | {Mib(heapBefore)} → {Mib(heapEnd)} ({PerSession(heapBefore, heapEnd, open)}) | {Num(node["threadsAtHoldEnd"], "N0")} | {Sum(r["connectFailures"])} | {(serverCloses.Length == 0 ? "0" : string.Join(", ", serverCloses.Select(c => $"{c.Key["server-closed ".Length..]}: {(long)c.Value!:N0}")))} | {Sum(r["socketErrors"])} / {Sum(r["serverErrors"])} | {Num(r["loadGenerator"]?["cpuCoresDuringHold"], "N2")} | {Num(r["loadGenerator"]?["othersCpuCoresDuringHold"], "N2")} | {Num(r["connectLatency"]?["p50Ms"], "N1")} / {Num(r["connectLatency"]?["p99Ms"], "N1")} | {Num(r["firstTokenLatency"]?["p50Ms"], "N1")} / {Num(r["firstTokenLatency"]?["p99Ms"], "N1")} |"));
        }

        return 0;
    }

    private static long? Long(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;

    private static string Num(JsonNode? node, string format)
        => node is JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Mib(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("N0", CultureInfo.InvariantCulture) + " MiB" : "-";

    private static string PerSession(long? before, long? after, long open)
        => before is { } b && after is { } a && open > 0
            ? ((a - b) / (double)open / 1024).ToString("N1", CultureInfo.InvariantCulture) + " KiB"
            : "-";

    private static string Sum(JsonNode? counts)
        => counts is JsonObject o ? o.Sum(c => (long)c.Value!).ToString("N0", CultureInfo.InvariantCulture) : "-";
}
