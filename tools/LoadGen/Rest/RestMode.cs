using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentGateway.LoadGen.Metrics;
using AgentGateway.LoadGen.Node;
using AgentGateway.LoadGen.Ws;

namespace AgentGateway.LoadGen.Rest;

/// <summary>
/// <c>rest</c>: N sessions × M non-streamed <c>POST /v1/chat/completions</c> calls (<c>X-Session-Id</c> per session),
/// at a fixed concurrency. It leaves N idle session grains on the node; with <c>--node-memory</c> (the default) it
/// reads <c>/admin/node?gc=true</c> before and after and reports the live heap each new session keeps.
/// </summary>
/// <remarks>
/// Every call is a new task (its user message names the call), so the loop limit never trips however many calls a
/// session makes. All sessions send the same conversations, so the node's answer cache holds M answers, not N × M.
/// A warm-up (its own sessions) runs before the first reading, so JIT and pools are not counted per session.
/// </remarks>
internal sealed class RestMode(RestOptions options) : ILoadMode
{
    public string Name => "rest";

    public async Task<object> RunAsync(RunContext context, CancellationToken stop)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            MaxConnectionsPerServer = options.Concurrency,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = context.Url,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var admin = new NodeAdminClient(http, context.Url);
        var bodies = Enumerable.Range(1, options.CallsPerSession).Select(Body).ToArray();

        if (options.WarmupSessions > 0)
        {
            context.Progress.WriteLine($"rest: warm-up, {options.WarmupSessions:N0} sessions x 1 call");
            await RunCallsAsync(http, options.SessionPrefix + "-warmup", options.WarmupSessions, bodies[..1], new RestCounters(), stop).ConfigureAwait(false);
        }

        JsonObject? before = null;
        string? error = null;
        if (options.NodeMemory)
        {
            (before, error) = await admin.GetAsync(fullGc: true, stop).ConfigureAwait(false);
        }

        context.Progress.WriteLine($"rest: {options.Sessions:N0} sessions x {options.CallsPerSession:N0} calls, concurrency {options.Concurrency:N0}");
        var counters = new RestCounters();
        var clock = Stopwatch.StartNew();
        using var ticker = new CancellationTokenSource();
        var progress = context.Quiet ? Task.CompletedTask : ProgressAsync(context.Progress, counters, clock, ticker.Token);
        await RunCallsAsync(http, options.SessionPrefix, options.Sessions, bodies, counters, stop).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        await ticker.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);

        JsonObject? after = null;
        if (options.NodeMemory && before is not null)
        {
            (after, error) = await admin.GetAsync(fullGc: true, stop).ConfigureAwait(false);
        }

        return new RestResult(
            options,
            Math.Round(seconds, 2),
            counters.Calls,
            Math.Round(counters.Calls / Math.Max(0.001, seconds), 1),
            counters.Statuses.Snapshot(),
            counters.Routes.Snapshot(),
            counters.Trips.Snapshot(),
            counters.Failures.Snapshot(),
            counters.Latency.Summarize(),
            NodeMemoryDelta.From(before, after, error));
    }

    public void Render(object result, TextWriter output)
    {
        var r = (RestResult)result;
        var m = r.NodeMemory;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            agent-loadgen rest: {r.Settings.Sessions:N0} sessions x {r.Settings.CallsPerSession:N0} calls, concurrency {r.Settings.Concurrency:N0}, {r.Seconds:N1}s
              calls                     {r.Calls,10:N0}   ({r.CallsPerSecond:N0}/s)
              statuses                  {WsMode.Format(r.Statuses)}
              routes                    {WsMode.Format(r.Routes)}
              trips                     {WsMode.Format(r.Trips)}
              failures                  {WsMode.Format(r.Failures)}
            latency (ms)                count      mean       p50       p90       p99     p99.9       max
              call                   {WsMode.Row(r.Latency)}
            node memory (GET /admin/node?gc=true before and after){(m.Error is null ? string.Empty : "   (" + m.Error + ")")}
              session activations       {m.ActivationsBefore?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"} -> {m.ActivationsAfter?.ToString("N0", CultureInfo.InvariantCulture) ?? "-"}
              GC heap (live)            {WsMode.Mib(m.GcHeapBytesBefore)} -> {WsMode.Mib(m.GcHeapBytesAfter)}
              working set               {WsMode.Mib(m.WorkingSetBytesBefore)} -> {WsMode.Mib(m.WorkingSetBytesAfter)}
              GC heap per new session   {(m.GcHeapBytesPerSession is { } h ? h.ToString("N0", CultureInfo.InvariantCulture) + " B" : "-")}
              working set per session   {(m.WorkingSetBytesPerSession is { } w ? w.ToString("N0", CultureInfo.InvariantCulture) + " B" : "-")}
            """));
    }

    private async Task RunCallsAsync(HttpClient http, string prefix, int sessions, byte[][] bodies, RestCounters counters, CancellationToken stop)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = stop };
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, sessions), parallel, async (i, ct) =>
            {
                var session = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");
                foreach (var body in bodies)
                {
                    await CallAsync(http, session, body, counters, ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

    }

    private static async Task CallAsync(HttpClient http, string session, byte[] body, RestCounters counters, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-Session-Id", session);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            counters.Latency.Record(Stopwatch.GetElapsedTime(started));
            counters.Statuses.Add(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
            if (response.Headers.TryGetValues("X-Gateway-Route", out var route))
            {
                counters.Routes.Add(route.First());
            }

            if (response.Headers.TryGetValues("X-Gateway-Trip", out var trip))
            {
                counters.Trips.Add(trip.First());
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            counters.Failures.Add(ex is HttpRequestException h && h.HttpRequestError != HttpRequestError.Unknown ? "http-" + h.HttpRequestError : ex.GetType().Name);
        }
        finally
        {
            counters.Completed();
        }
    }

    private byte[] Body(int call)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, options.Model);
            json.WriteStartArray("messages"u8);
            json.WriteStartObject();
            json.WriteString("role"u8, "user"u8);
            json.WriteString("content"u8, string.Create(CultureInfo.InvariantCulture, $"{options.Text} (call {call})"));
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static async Task ProgressAsync(TextWriter progress, RestCounters counters, Stopwatch clock, CancellationToken ticker)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var last = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(ticker).ConfigureAwait(false))
            {
                var calls = counters.Calls;
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{clock.Elapsed.TotalSeconds,6:F0}s] calls {calls,10:N0}  calls/s {calls - last,8:N0}  failures {counters.Failures.Total,6:N0}  non-200 {counters.Calls - counters.Statuses["200"] - counters.Failures.Total,6:N0}"));
                last = calls;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class RestCounters
    {
        private long _calls;

        public long Calls => Volatile.Read(ref _calls);

        public LatencyHistogram Latency { get; } = new();

        public Tally Statuses { get; } = new();

        public Tally Routes { get; } = new();

        public Tally Trips { get; } = new();

        public Tally Failures { get; } = new();

        public void Completed() => Interlocked.Increment(ref _calls);
    }
}

/// <summary>What a <c>rest</c> run measured (the JSON report's <c>result</c>).</summary>
internal sealed record RestResult(
    RestOptions Settings,
    double Seconds,
    long Calls,
    double CallsPerSecond,
    SortedDictionary<string, long> Statuses,
    SortedDictionary<string, long> Routes,
    SortedDictionary<string, long> Trips,
    SortedDictionary<string, long> Failures,
    LatencySummary Latency,
    NodeMemoryDelta NodeMemory);

/// <summary>The node's live heap and working set before and after the run, per new session activation.</summary>
internal sealed record NodeMemoryDelta(
    long? ActivationsBefore,
    long? ActivationsAfter,
    long? GcHeapBytesBefore,
    long? GcHeapBytesAfter,
    long? WorkingSetBytesBefore,
    long? WorkingSetBytesAfter,
    long? GcHeapBytesPerSession,
    long? WorkingSetBytesPerSession,
    JsonObject? Before,
    JsonObject? After,
    string? Error)
{
    public static NodeMemoryDelta From(JsonObject? before, JsonObject? after, string? error)
    {
        var a0 = NodeAdminClient.Long(before, "sessionActivations");
        var a1 = NodeAdminClient.Long(after, "sessionActivations");
        var h0 = NodeAdminClient.Long(before, "memory.gcHeapBytes");
        var h1 = NodeAdminClient.Long(after, "memory.gcHeapBytes");
        var w0 = NodeAdminClient.Long(before, "memory.workingSetBytes");
        var w1 = NodeAdminClient.Long(after, "memory.workingSetBytes");
        var added = a1 - a0;
        return new NodeMemoryDelta(
            a0, a1, h0, h1, w0, w1,
            added > 0 ? (h1 - h0) / added : null,
            added > 0 ? (w1 - w0) / added : null,
            before, after, error);
    }
}
