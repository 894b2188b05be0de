using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentGateway.LoadGen.Metrics;
using AgentGateway.LoadGen.Node;

namespace AgentGateway.LoadGen.Ws;

/// <summary>
/// <c>ws</c>: N concurrent chat sessions on <c>GET /v1/sessions/{id}/ws</c>, opened at a steady rate, each streaming
/// continuously (by default one paced token a second), held for a duration, then closed normally.
/// </summary>
/// <remarks>
/// Phases: <em>ramp</em> (connects at <c>--rate</c> a second), <em>settle</em> (the last sessions get their first
/// tokens), <em>hold</em> (the measured window: tokens per second, streaming sessions, stalls, node CPU), <em>close</em>.
/// A session is <em>streaming</em> when its last token is younger than <c>--stall</c>; a silence longer than that
/// during the hold counts as a stall.
/// </remarks>
internal sealed class WsMode(WsOptions options) : ILoadMode
{
    public string Name => "ws";

    public async Task<object> RunAsync(RunContext context, CancellationToken stop)
    {
        var fileLimits = FileLimits.Ensure(options.Sessions + 256L);
        context.Progress.WriteLine($"ws: {options.Sessions:N0} sessions at {options.ConnectsPerSecond:N0}/s, hold {options.Hold.TotalSeconds:N0}s; {fileLimits}");

        var stats = new WsStats();
        var userMessage = UserMessage(options.Text, options.Model);
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        using var adminHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var admin = new NodeAdminClient(adminHttp, context.Url);

        // The node before any session: the baseline of the per-session figures.
        var (adminBefore, _) = await admin.GetAsync(fullGc: options.NodeGc, stop).ConfigureAwait(false);
        var nodeBefore = context.NodePid is { } pidBefore ? ProcessStats.Sample(pidBefore) : null;

        var sessions = new WsSession[options.Sessions];
        var running = new Task[options.Sessions];
        var wsBase = new UriBuilder(context.Url) { Scheme = context.Url.Scheme == "https" ? "wss" : "ws" }.Uri;
        var clock = Stopwatch.StartNew();
        var phase = "ramp";
        var samples = new List<WsSample>();
        var holdStreaming = new List<int>();
        var stallTicks = (long)(options.Stall.TotalSeconds * Stopwatch.Frequency);
        var started = 0;

        // Once a second: count streaming sessions, account stalls during the hold, print the progress line.
        using var ticker = new CancellationTokenSource();
        var lastTokens = 0L;
        var lastAt = 0.0;
        var progress = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(ticker.Token).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                var streaming = 0;
                var inHold = phase == "hold";
                for (var i = 0; i < Volatile.Read(ref started); i++)
                {
                    var session = sessions[i];
                    if (session is null || !session.IsOpen)
                    {
                        continue;
                    }

                    var last = session.LastTokenTimestamp;
                    var silent = last == 0 || now - last > stallTicks;
                    if (!silent)
                    {
                        streaming++;
                        session.InStall = false;
                    }
                    else if (inHold && !session.InStall)
                    {
                        session.InStall = true;
                        session.Stalls++;
                    }
                }

                var seconds = clock.Elapsed.TotalSeconds;
                var tokens = stats.Tokens;
                var rate = (tokens - lastTokens) / Math.Max(0.001, seconds - lastAt);
                lastTokens = tokens;
                lastAt = seconds;
                var sample = new WsSample(Math.Round(seconds, 1), phase, stats.Connecting, stats.Open, streaming, tokens, Math.Round(rate, 1), stats.ConnectFailures.Total);
                lock (samples)
                {
                    samples.Add(sample);
                    if (inHold)
                    {
                        holdStreaming.Add(streaming);
                    }
                }

                if (!context.Quiet)
                {
                    context.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{seconds,6:F0}s] {phase,-6} started {Volatile.Read(ref started),7:N0}  connecting {sample.Connecting,6:N0}  open {sample.Open,7:N0}  streaming {streaming,7:N0}  tok/s {rate,9:N0}  done {stats.Done.Total,6:N0}  fallback {stats.Fallbacks.Total,5:N0}  conn-fail {sample.ConnectFailures,5:N0}  closed {stats.Closes.Total,5:N0}  errors {stats.ServerErrors.Total + stats.SocketErrors.Total,5:N0}"));
                }
            }
        });

        // Ramp: start every session whose due time has come, then wait a few milliseconds.
        var interval = 1.0 / options.ConnectsPerSecond;
        while (started < options.Sessions && !stop.IsCancellationRequested)
        {
            var due = Math.Min(options.Sessions, (int)(clock.Elapsed.TotalSeconds / interval) + 1);
            for (var i = started; i < due; i++)
            {
                var session = new WsSession(i, new Uri(wsBase, $"/v1/sessions/{options.SessionPrefix}-{i}/ws"), options, userMessage, stats);
                sessions[i] = session;
                running[i] = session.RunAsync(invoker, stop);
                Volatile.Write(ref started, i + 1);
            }

            if (started < options.Sessions)
            {
                await Delay(TimeSpan.FromMilliseconds(5), stop).ConfigureAwait(false);
            }
        }

        var rampSeconds = clock.Elapsed.TotalSeconds;
        phase = "settle";
        await Delay(options.Settle, stop).ConfigureAwait(false);

        // Hold: the measured window.
        phase = "hold";
        var holdStart = clock.Elapsed;
        var tokensAtStart = stats.Tokens;
        var nodeAtStart = context.NodePid is { } pid0 ? ProcessStats.Sample(pid0) : null;
        var selfAtStart = ProcessStats.Sample(Environment.ProcessId);
        var machineAtStart = ProcessStats.MachineBusy();
        await Delay(options.Hold, stop).ConfigureAwait(false);
        var holdSeconds = (clock.Elapsed - holdStart).TotalSeconds;
        var tokensInHold = stats.Tokens - tokensAtStart;
        var nodeAtEnd = context.NodePid is { } pid1 ? ProcessStats.Sample(pid1) : null;
        var selfAtEnd = ProcessStats.Sample(Environment.ProcessId);
        var machineAtEnd = ProcessStats.MachineBusy();
        var openAtEnd = stats.Open;
        var streamingAtEnd = CountStreaming(sessions, started, stallTicks);
        phase = "close";

        // The node's own figures while every session is still open: as it is, then after a full collection.
        var (adminNow, error) = await admin.GetAsync(fullGc: false, CancellationToken.None).ConfigureAwait(false);
        JsonObject? adminGc = null;
        if (options.NodeGc && adminNow is not null)
        {
            (adminGc, error) = await admin.GetAsync(fullGc: true, CancellationToken.None).ConfigureAwait(false);
        }

        // Close every session normally; abort those that do not finish in time.
        await Task.WhenAll(sessions.Take(started).Select(s => s.CloseAsync())).ConfigureAwait(false);
        var all = Task.WhenAll(running.Take(started));
        if (await Task.WhenAny(all, Task.Delay(options.CloseTimeout, CancellationToken.None)).ConfigureAwait(false) != all)
        {
            foreach (var session in sessions.Take(started))
            {
                session.Abort();
            }

            await all.ConfigureAwait(false);
        }

        await ticker.CancelAsync().ConfigureAwait(false);
        try
        {
            await progress.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        int[] hold;
        WsSample[] allSamples;
        lock (samples)
        {
            hold = [.. holdStreaming];
            allSamples = [.. samples];
        }

        return new WsResult(
            options,
            fileLimits,
            Math.Round(rampSeconds, 2),
            Math.Round(holdSeconds, 2),
            started,
            stats.EverOpen,
            stats.PeakOpen,
            openAtEnd,
            streamingAtEnd,
            hold.Length == 0 ? streamingAtEnd : hold.Min(),
            hold.Length == 0 ? streamingAtEnd : Math.Round(hold.Average(), 1),
            sessions.Take(started).Count(s => s.Stalls > 0),
            sessions.Take(started).Sum(s => s.Stalls),
            stats.Tokens,
            Math.Round(tokensInHold / Math.Max(0.001, holdSeconds), 1),
            stats.UserMessages,
            stats.ConnectFailures.Snapshot(),
            stats.Done.Snapshot(),
            stats.Fallbacks.Snapshot(),
            stats.ServerErrors.Snapshot(),
            stats.Closes.Snapshot(),
            stats.SocketErrors.Snapshot(),
            stats.Connect.Summarize(),
            stats.FirstMessage.Summarize(),
            stats.FirstToken.Summarize(),
            new NodeFigures(
                context.NodePid,
                nodeBefore?.RssBytes,
                adminBefore,
                ProcessStats.CoresBetween(nodeAtStart, nodeAtEnd),
                nodeAtEnd?.RssBytes,
                nodeAtEnd?.Threads,
                nodeAtEnd?.OpenDescriptors,
                adminNow,
                adminGc,
                error),
            new ProcessFigures(
                ProcessStats.CoresBetween(selfAtStart, selfAtEnd),
                selfAtEnd?.RssBytes,
                GC.GetTotalMemory(false),
                OthersCores(machineAtEnd - machineAtStart, holdSeconds, ProcessStats.CoresBetween(nodeAtStart, nodeAtEnd), ProcessStats.CoresBetween(selfAtStart, selfAtEnd))),
            allSamples);
    }

    public void Render(object result, TextWriter output)
    {
        var r = (WsResult)result;
        var node = r.Node;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            agent-loadgen ws: {r.SessionsStarted:N0} sessions, ramp {r.RampSeconds:N1}s at {r.Settings.ConnectsPerSecond:N0}/s, hold {r.HoldSeconds:N1}s
              text: {r.Settings.Text}
              {r.FileLimits}
            sessions
              connected (ever)          {r.SessionsConnected,10:N0}   peak open {r.PeakOpen:N0}
              open at hold end          {r.OpenAtHoldEnd,10:N0}
              streaming at hold end     {r.StreamingAtHoldEnd,10:N0}   (a token in the last {r.Settings.Stall.TotalSeconds:N0}s)
              streaming during hold     min {r.MinStreamingDuringHold:N0}, mean {r.MeanStreamingDuringHold:N1}
              stalled during hold       {r.SessionsThatStalledDuringHold,10:N0}   sessions ({r.StallEpisodesDuringHold:N0} silences > {r.Settings.Stall.TotalSeconds:N0}s)
              connect failures          {Sum(r.ConnectFailures),10:N0}   {Format(r.ConnectFailures)}
            traffic
              tokens/s during hold      {r.TokensPerSecondDuringHold,10:N1}
              tokens total              {r.TokensTotal,10:N0}
              user messages sent        {r.UserMessagesSent,10:N0}
              done                      {Format(r.Done)}
              fallback                  {Format(r.Fallbacks)}
              server errors             {Format(r.ServerErrors)}
              closes                    {Format(r.Closes)}
              socket errors             {Format(r.SocketErrors)}
            latency (ms)                count      mean       p50       p90       p99     p99.9       max
              connect                {Row(r.ConnectLatency)}
              first message (state)  {Row(r.FirstMessageLatency)}
              first token            {Row(r.FirstTokenLatency)}
            node{(node.Pid is { } pid ? $" (pid {pid})" : string.Empty)}
              CPU during hold           {Cores(node.CpuCoresDuringHold)}
              RSS before / at hold end  {Mib(node.RssBytesBeforeRamp)} / {Mib(node.RssBytesAtHoldEnd)}{PerSession(node.RssBytesBeforeRamp, node.RssBytesAtHoldEnd, r.OpenAtHoldEnd)}
              threads / descriptors     {node.ThreadsAtHoldEnd?.ToString(CultureInfo.InvariantCulture) ?? "-"} / {node.OpenDescriptorsAtHoldEnd?.ToString(CultureInfo.InvariantCulture) ?? "-"}
              session activations       {NodeAdminClient.Long(node.AdminAtHoldEnd, "sessionActivations")?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"}
              GC heap at hold end       {Mib(NodeAdminClient.Long(node.AdminAtHoldEnd, "memory.gcHeapBytes"))}
              GC heap after full GC     {Mib(NodeAdminClient.Long(node.AdminBeforeRamp, "memory.gcHeapBytes"))} before / {Mib(NodeAdminClient.Long(node.AdminAfterFullGc, "memory.gcHeapBytes"))} at hold end{PerSession(NodeAdminClient.Long(node.AdminBeforeRamp, "memory.gcHeapBytes"), NodeAdminClient.Long(node.AdminAfterFullGc, "memory.gcHeapBytes"), r.OpenAtHoldEnd)}{(node.AdminError is null ? string.Empty : "   (" + node.AdminError + ")")}
            load generator
              CPU during hold           {Cores(r.LoadGenerator.CpuCoresDuringHold)}
              RSS at hold end           {Mib(r.LoadGenerator.RssBytesAtHoldEnd)}   GC heap {Mib(r.LoadGenerator.GcHeapBytesAtHoldEnd)}
            other processes
              CPU during hold           {Cores(r.LoadGenerator.OthersCpuCoresDuringHold)}   (the machine's busy time less the node's and the load generator's)
            """));
    }

    internal static string Row(LatencySummary s) => s.Count == 0
        ? "        0         -"
        : string.Create(CultureInfo.InvariantCulture, $"{s.Count,9:N0} {s.MeanMs,9:N2} {s.P50Ms,9:N2} {s.P90Ms,9:N2} {s.P99Ms,9:N2} {s.P999Ms,9:N2} {s.MaxMs,9:N2}");

    internal static string Format(SortedDictionary<string, long> counts)
        => counts.Count == 0 ? "-" : string.Join(", ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}: {c.Value:N0}")));

    private static double? OthersCores(TimeSpan? machineBusy, double seconds, double? node, double? self)
        => machineBusy is { } busy && seconds > 0
            ? Math.Round(Math.Max(0, (busy.TotalSeconds / seconds) - (node ?? 0) - (self ?? 0)), 2)
            : null;

    /// <summary>"   (N B per open session)" when both readings are there.</summary>
    internal static string PerSession(long? before, long? after, int open)
        => before is { } b && after is { } a && open > 0
            ? string.Create(CultureInfo.InvariantCulture, $"   ({(a - b) / (double)open:N0} B per open session)")
            : string.Empty;

    internal static string Mib(long? bytes) => bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b / 1048576.0:N1} MiB") : "-";

    private static string Cores(double? cores) => cores is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c:N2} cores") : "- (give --node-pid)";

    private static long Sum(SortedDictionary<string, long> counts) => counts.Values.Sum();

    private static int CountStreaming(WsSession[] sessions, int started, long stallTicks)
    {
        var now = Stopwatch.GetTimestamp();
        var streaming = 0;
        for (var i = 0; i < started; i++)
        {
            var last = sessions[i].LastTokenTimestamp;
            if (sessions[i].IsOpen && last != 0 && now - last <= stallTicks)
            {
                streaming++;
            }
        }

        return streaming;
    }

    private static byte[] UserMessage(string text, string? model)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "user_message"u8);
            json.WriteString("text"u8, text);
            if (model is not null)
            {
                json.WriteString("model"u8, model);
            }

            json.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
