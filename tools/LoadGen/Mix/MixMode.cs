using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text.Json.Serialization;
using AgentGateway.LoadGen.Metrics;
using AgentGateway.LoadGen.Ws;

namespace AgentGateway.LoadGen.Mix;

/// <summary>
/// <c>mix</c>: agent tasks started at a steady rate (<c>--rate</c> a second for <c>--duration</c>, at most
/// <c>--concurrency</c> at once), each on its own new session and over REST, SSE or WebSocket by weight. A share of
/// them are runaway agents (<c>[[sim:loop]]</c>: the model always asks for a tool, the agent always answers) that
/// only the gateway's loop limit stops; the rest ask one question, some with one tool round trip.
/// </summary>
/// <remarks>
/// Meant for a cluster behind a load balancer: failures on the wire are counted by kind and the request is sent
/// again (bounded, see <see cref="HttpAgent"/> and <see cref="WsAgent"/>), so a node killed mid-run shows up as
/// errors and retries, not as lost tasks. The report lists, per runaway task, how many model answers it got before
/// the trip (never more than the loop limit when governance holds) and every session that tripped.
/// </remarks>
internal sealed class MixMode(MixOptions options) : ILoadMode
{
    public string Name => "mix";

    public async Task<object> RunAsync(RunContext context, CancellationToken stop)
    {
        var stats = new MixStats();
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            MaxConnectionsPerServer = options.Concurrency * 2,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.RequestTimeout,
            // A pooled connection to a node that died must not be reused for long.
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = context.Url, Timeout = Timeout.InfiniteTimeSpan };
        using var wsInvoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, UseCookies = false, ConnectTimeout = options.RequestTimeout });
        var httpAgent = new HttpAgent(http, options, stats);
        var wsBase = new UriBuilder(context.Url) { Scheme = context.Url.Scheme == "https" ? "wss" : "ws" }.Uri;
        var wsAgent = new WsAgent(wsInvoker, wsBase, options, stats, httpAgent);

        var weights = string.Join(", ", options.Weights.Where(w => w.Value > 0).Select(w => string.Create(CultureInfo.InvariantCulture, $"{HttpAgent.Name(w.Key)}={w.Value}")));
        context.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mix: {options.Rate} tasks/s for {options.Duration.TotalSeconds:N0}s, concurrency {options.Concurrency}, transports {weights}, runaway share {options.RunawayShare}, sessions {options.SessionPrefix}-*"));

        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var gate = new SemaphoreSlim(options.Concurrency);
        var running = new List<Task>();
        var random = new Random(options.Seed);
        var clock = Stopwatch.StartNew();
        var samples = new List<MixSample>();
        var late = 0L;

        using var ticker = new CancellationTokenSource();
        var progress = ProgressAsync(context, stats, clock, samples, ticker.Token);

        // Start each task when its time comes (task k at k / rate seconds); the concurrency cap may hold it back.
        var index = 0;
        try
        {
            while (clock.Elapsed < options.Duration && !stop.IsCancellationRequested)
            {
                var due = (long)(clock.Elapsed.TotalSeconds * options.Rate) + 1;
                while (index < due && clock.Elapsed < options.Duration)
                {
                    await gate.WaitAsync(stop).ConfigureAwait(false);
                    if (clock.Elapsed.TotalSeconds - (index / options.Rate) > 1)
                    {
                        late++;
                    }

                    var plan = Plan(index, random);
                    stats.TaskStarted(plan.Transport);
                    running.Add(RunTaskAsync(plan, plan.Transport == Transport.Ws ? null : httpAgent, wsAgent, stats, gate, abort.Token));
                    index++;
                }

                // Pacing the schedule (a load generator's clock, not a test waiting for something).
                await Task.Delay(TimeSpan.FromMilliseconds(5), stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        // Drain: the tasks under way may finish; after the drain time they are cancelled.
        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(options.Drain, CancellationToken.None)).ConfigureAwait(false) != all)
        {
            await abort.CancelAsync().ConfigureAwait(false);
        }

        await all.ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        await ticker.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);

        var records = stats.Records.OrderBy(r => r.SessionId, StringComparer.Ordinal).ToArray();
        var runaway = records.Where(r => r.Kind == "runaway").ToArray();
        MixSample[] allSamples;
        lock (samples)
        {
            allSamples = [.. samples];
        }

        return new MixResult(
            MixSettings.From(options),
            Math.Round(seconds, 2),
            stats.Started,
            stats.Finished,
            records.Count(r => r.Outcome.StartsWith("failed", StringComparison.Ordinal)),
            late,
            stats.Calls,
            Math.Round(stats.Calls / Math.Max(0.001, seconds), 1),
            Math.Round(stats.Finished / Math.Max(0.001, seconds), 2),
            stats.Retries,
            stats.PerTransport.Where(p => p.Value.Started > 0).ToDictionary(
                p => HttpAgent.Name(p.Key),
                p => new TransportResult(p.Value.Started, p.Value.Finished, p.Value.Failed, p.Value.CallLatency.Summarize(), p.Value.TaskLatency.Summarize())),
            stats.Trips.Snapshot(),
            stats.Routes.Snapshot(),
            stats.Errors.Snapshot(),
            stats.Outcomes.Snapshot(),
            new RunawaySummary(
                runaway.Length,
                runaway.Count(r => r.Trip is not null),
                options.MaxLoops,
                runaway.Length == 0 ? 0 : runaway.Max(r => r.ModelAnswers),
                runaway.Count(r => r.ModelAnswers > options.MaxLoops),
                new SortedDictionary<string, long>(runaway.GroupBy(r => r.ModelAnswers.ToString(CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => (long)g.Count()), StringComparer.Ordinal)),
            [.. records.Where(r => r.Trip is not null).Select(r => r.SessionId)],
            runaway,
            [.. records.Where(r => r.Kind != "runaway" && r.Outcome != "ok")],
            allSamples);
    }

    public void Render(object result, TextWriter output)
    {
        var r = (MixResult)result;
        var s = r.Settings;
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"agent-loadgen mix: {r.TasksStarted:N0} tasks in {r.Seconds:N1}s ({s.Rate}/s asked, concurrency {s.Concurrency}, runaway share {s.RunawayShare}), sessions {s.SessionPrefix}-*"),
            string.Create(CultureInfo.InvariantCulture, $"  tasks done                {r.TasksFinished,10:N0}   ({r.TasksPerSecond:N2}/s)   failed {r.TasksFailed:N0}   started late (>1s) {r.TasksStartedLate:N0}"),
            string.Create(CultureInfo.InvariantCulture, $"  calls                     {r.Calls,10:N0}   ({r.CallsPerSecond:N1}/s)   retries {r.Retries:N0}"),
            $"  outcomes                  {WsMode.Format(r.Outcomes)}",
            $"  trips                     {WsMode.Format(r.Trips)}",
            $"  routes                    {WsMode.Format(r.Routes)}",
            $"  errors                    {WsMode.Format(r.Errors)}",
            string.Create(CultureInfo.InvariantCulture, $"  runaway tasks             {r.Runaway.Tasks,10:N0}   tripped {r.Runaway.Tripped:N0}   model answers before the trip: max {r.Runaway.MaxModelAnswers} (limit {r.Runaway.MaxLoops}), over the limit {r.Runaway.OverLimit:N0}   [{WsMode.Format(r.Runaway.ModelAnswers)}]"),
            "latency (ms)                count      mean       p50       p90       p99     p99.9       max",
        };
        foreach (var (name, t) in r.Transports)
        {
            lines.Add($"  {name + " call",-21}{WsMode.Row(t.CallLatency)}");
            lines.Add($"  {name + " task",-21}{WsMode.Row(t.TaskLatency)}");
        }

        output.WriteLine(string.Join(Environment.NewLine, lines));
    }

    private AgentPlan Plan(int index, Random random)
    {
        var transport = options.PickTransport(random.NextDouble());
        var runaway = random.NextDouble() < options.RunawayShare;
        var tool = !runaway && random.NextDouble() < options.ToolShare;
        var id = string.Create(CultureInfo.InvariantCulture, $"{options.SessionPrefix}-{HttpAgent.Name(transport)}-{(runaway ? "r" : tool ? "t" : "n")}-{index}");
        var latency = options.ModelLatencyMilliseconds > 0
            ? string.Create(CultureInfo.InvariantCulture, $" [[sim:latency={options.ModelLatencyMilliseconds}]]")
            : string.Empty;
        var text = runaway ? $"Fix the build. [[sim:loop]]{latency} (task {id})"
            : tool ? $"Look the order up. [[sim:loop]]{latency} (task {id})"
            : $"Say hello.{latency} (task {id})";
        return new AgentPlan(id, transport, runaway, tool, text);
    }

    private async Task RunTaskAsync(AgentPlan plan, HttpAgent? httpAgent, WsAgent wsAgent, MixStats stats, SemaphoreSlim gate, CancellationToken abort)
    {
        // Off the scheduler's loop at once.
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(options.TaskTimeout);
        TaskRecord record;
        try
        {
            record = httpAgent is not null
                ? await httpAgent.RunAsync(plan, timeout.Token).ConfigureAwait(false)
                : await wsAgent.RunAsync(plan, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            record = Failed(plan, abort.IsCancellationRequested ? "failed:cancelled" : "failed:task-timeout", started);
            stats.Errors.Add(HttpAgent.Name(plan.Transport) + ":" + record.Outcome[7..]);
        }
#pragma warning disable CA1031 // a task's bug must not end the run: it is counted and reported
        catch (Exception ex)
#pragma warning restore CA1031
        {
            record = Failed(plan, "failed:exception-" + ex.GetType().Name, started);
            stats.Errors.Add(HttpAgent.Name(plan.Transport) + ":exception-" + ex.GetType().Name);
        }
        finally
        {
            gate.Release();
        }

        stats.TaskFinished(record, Stopwatch.GetElapsedTime(started));
    }

    private static TaskRecord Failed(AgentPlan plan, string outcome, long started)
        => new(plan.SessionId, plan.Transport, plan.Kind, outcome, 0, null, 0, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3));

    private static async Task ProgressAsync(RunContext context, MixStats stats, Stopwatch clock, List<MixSample> samples, CancellationToken ticker)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var lastCalls = 0L;
        var lastAt = 0.0;
        try
        {
            while (await timer.WaitForNextTickAsync(ticker).ConfigureAwait(false))
            {
                var seconds = clock.Elapsed.TotalSeconds;
                var calls = stats.Calls;
                var rate = (calls - lastCalls) / Math.Max(0.001, seconds - lastAt);
                (lastCalls, lastAt) = (calls, seconds);
                var sample = new MixSample(Math.Round(seconds, 1), stats.Started, stats.Finished, stats.InFlight, Math.Round(rate, 1), stats.Errors.Total, stats.Retries, stats.Trips.Total);
                lock (samples)
                {
                    samples.Add(sample);
                }

                if (!context.Quiet)
                {
                    // One line a second; "done N" is what scripts (the cluster test) watch for.
                    context.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{seconds,6:F0}s] started {sample.Started,6}  done {sample.Done,6}  in-flight {sample.InFlight,5}  req/s {rate,8:F1}  errors {sample.Errors,5}  retries {sample.Retries,5}  trips {sample.Trips,5}"));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>The settings as reported (never the API key).</summary>
internal sealed record MixSettings(
    double Rate,
    double DurationSeconds,
    int Concurrency,
    IReadOnlyDictionary<string, double> Transports,
    double RunawayShare,
    double ToolShare,
    string Model,
    int ModelLatencyMilliseconds,
    bool ApiKey,
    int MaxLoops,
    int Retries,
    double RetryDelaySeconds,
    double RequestTimeoutSeconds,
    double TaskTimeoutSeconds,
    string SessionPrefix,
    int Seed)
{
    public static MixSettings From(MixOptions o) => new(
        o.Rate,
        o.Duration.TotalSeconds,
        o.Concurrency,
        o.Weights.ToDictionary(w => HttpAgent.Name(w.Key), w => w.Value),
        o.RunawayShare,
        o.ToolShare,
        o.Model,
        o.ModelLatencyMilliseconds,
        o.ApiKey is not null,
        o.MaxLoops,
        o.Retries,
        o.RetryDelay.TotalSeconds,
        o.RequestTimeout.TotalSeconds,
        o.TaskTimeout.TotalSeconds,
        o.SessionPrefix,
        o.Seed);
}

/// <summary>One transport's tasks and latencies.</summary>
internal sealed record TransportResult(long Started, long Finished, long Failed, LatencySummary CallLatency, LatencySummary TaskLatency);

/// <summary>The runaway agents: how many model answers each got before the gateway stopped it.</summary>
/// <param name="ModelAnswers">How many runaway tasks got N model answers (N as the key).</param>
internal sealed record RunawaySummary(int Tasks, int Tripped, int MaxLoops, int MaxModelAnswers, int OverLimit, SortedDictionary<string, long> ModelAnswers);

/// <summary>The progress line's figures, once a second.</summary>
internal sealed record MixSample(double Seconds, long Started, long Done, long InFlight, double CallsPerSecond, long Errors, long Retries, long Trips);

/// <summary>What a <c>mix</c> run measured (the JSON report's <c>result</c>).</summary>
internal sealed record MixResult(
    MixSettings Settings,
    double Seconds,
    long TasksStarted,
    long TasksFinished,
    long TasksFailed,
    long TasksStartedLate,
    long Calls,
    double CallsPerSecond,
    double TasksPerSecond,
    long Retries,
    Dictionary<string, TransportResult> Transports,
    SortedDictionary<string, long> Trips,
    SortedDictionary<string, long> Routes,
    SortedDictionary<string, long> Errors,
    SortedDictionary<string, long> Outcomes,
    RunawaySummary Runaway,
    string[] TrippedSessions,
    [property: JsonPropertyName("runawayTasks")] TaskRecord[] RunawayTasks,
    TaskRecord[] OtherTasksNotOk,
    MixSample[] Samples);
