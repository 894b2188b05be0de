using System.Text.Json.Nodes;
using AgentGateway.LoadGen.Metrics;
using AgentGateway.LoadGen.Node;

namespace AgentGateway.LoadGen.Ws;

/// <summary>What a <c>ws</c> run measured (the JSON report's <c>result</c>).</summary>
internal sealed record WsResult(
    WsOptions Settings,
    string FileLimits,
    double RampSeconds,
    double HoldSeconds,
    int SessionsStarted,
    int SessionsConnected,
    int PeakOpen,
    int OpenAtHoldEnd,
    int StreamingAtHoldEnd,
    int MinStreamingDuringHold,
    double MeanStreamingDuringHold,
    int SessionsThatStalledDuringHold,
    int StallEpisodesDuringHold,
    long TokensTotal,
    double TokensPerSecondDuringHold,
    long UserMessagesSent,
    SortedDictionary<string, long> ConnectFailures,
    SortedDictionary<string, long> Done,
    SortedDictionary<string, long> Fallbacks,
    SortedDictionary<string, long> ServerErrors,
    SortedDictionary<string, long> Closes,
    SortedDictionary<string, long> SocketErrors,
    LatencySummary ConnectLatency,
    LatencySummary FirstMessageLatency,
    LatencySummary FirstTokenLatency,
    NodeFigures Node,
    ProcessFigures LoadGenerator,
    IReadOnlyList<WsSample> Samples);

/// <summary>One progress reading (once a second).</summary>
internal sealed record WsSample(double Seconds, string Phase, int Connecting, int Open, int Streaming, long Tokens, double TokensPerSecond, long ConnectFailures);

/// <summary>
/// The node before the ramp (after a full GC) and during the hold: its process (when its pid is given) and its own
/// <c>/admin/node</c>.
/// </summary>
internal sealed record NodeFigures(
    int? Pid,
    long? RssBytesBeforeRamp,
    JsonObject? AdminBeforeRamp,
    double? CpuCoresDuringHold,
    long? RssBytesAtHoldEnd,
    int? ThreadsAtHoldEnd,
    int? OpenDescriptorsAtHoldEnd,
    JsonObject? AdminAtHoldEnd,
    JsonObject? AdminAfterFullGc,
    string? AdminError);

/// <summary>
/// The load generator's CPU over the hold and its memory at the end, and the CPU every other process on the machine
/// used during the hold (the machine's busy time less the node's and the load generator's): other work measured with.
/// </summary>
internal sealed record ProcessFigures(double? CpuCoresDuringHold, long? RssBytesAtHoldEnd, long GcHeapBytesAtHoldEnd, double? OthersCpuCoresDuringHold);
