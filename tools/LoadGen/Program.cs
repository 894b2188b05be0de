using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentGateway.LoadGen;
using AgentGateway.LoadGen.Mix;
using AgentGateway.LoadGen.Rest;
using AgentGateway.LoadGen.Ws;

// agent-loadgen MODE [options]: loads one gateway node on loopback and reports what it measured.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Help.Text);
    return args.Length == 0 ? 2 : 0;
}

if (args[0] == "table")
{
    return AgentGateway.LoadGen.Reporting.WsTable.Print(args[1..], Console.Out);
}

ILoadMode mode;
RunContext context;
string? reportPath;
CommandLine options;
try
{
    options = new CommandLine(args[1..]);
    var url = new Uri(options.String("url", "http://127.0.0.1:5080"));
    if (!IsLoopback(url))
    {
        throw new ArgumentException($"--url must be a loopback address (127.0.0.1, [::1] or localhost); was {url}.");
    }

    mode = args[0] switch
    {
        "ws" => new WsMode(WsOptions.Read(options)),
        "rest" => new RestMode(RestOptions.Read(options)),
        "mix" => new MixMode(MixOptions.Read(options)),
        _ => throw new ArgumentException($"Unknown mode '{args[0]}' (ws, rest, mix)."),
    };
    reportPath = options.OptionalString("report");
    context = new RunContext(url, options.OptionalInt("node-pid"), Console.Error, options.Flag("quiet"));
    options.ThrowOnUnused();
}
catch (Exception ex) when (ex is ArgumentException or UriFormatException)
{
    await Console.Error.WriteLineAsync("agent-loadgen: " + ex.Message);
    await Console.Error.WriteLineAsync("agent-loadgen --help lists the modes and options.");
    return 2;
}

// Ctrl+C (or SIGTERM) ends the run early; the report still covers what ran.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stop.Cancel();
});

var startedAt = DateTimeOffset.UtcNow;
var result = await mode.RunAsync(context, stop.Token);
mode.Render(result, Console.Out);

if (reportPath is not null)
{
    var report = new
    {
        tool = "agent-loadgen",
        mode = mode.Name,
        startedAt,
        endedAt = DateTimeOffset.UtcNow,
        stoppedEarly = stop.IsCancellationRequested,
        url = context.Url,
        machine = new
        {
            name = Environment.MachineName,
            processors = Environment.ProcessorCount,
            os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        },
        arguments = Redacted(args),
        result,
    };
    var json = JsonSerializer.Serialize(report, new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new TimeSpanSecondsConverter() },
    });
    await File.WriteAllTextAsync(reportPath, json);
    await Console.Error.WriteLineAsync($"report: {Path.GetFullPath(reportPath)}");
}

return 0;

// The report is shared; an API key given on the command line is not written into it.
static string[] Redacted(string[] args) => [.. args.Select((a, i) =>
    i > 0 && args[i - 1] == "--api-key" ? "***" : a.StartsWith("--api-key=", StringComparison.Ordinal) ? "--api-key=***" : a)];

static bool IsLoopback(Uri url) =>
    url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

/// <summary>Durations in the JSON report as seconds (a number), not "00:00:05".</summary>
internal sealed class TimeSpanSecondsConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => TimeSpan.FromSeconds(reader.GetDouble());

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
        => writer.WriteNumberValue(Math.Round(value.TotalSeconds, 3));
}

/// <summary>The usage text.</summary>
internal static class Help
{
    public static string Text => string.Create(CultureInfo.InvariantCulture, $"""
        agent-loadgen MODE [options]     load a gateway (a node, or a load balancer in front of nodes) on loopback;
                                         progress on stderr, report on stdout

        common options
          --url URL              the node (loopback only)                         [http://127.0.0.1:5080]
          --report PATH          also write the report as JSON
          --node-pid PID         the node's process: its CPU over the hold, RSS, threads, descriptors (/proc)
          --quiet                no progress line

        ws    concurrent chat sessions on GET /v1/sessions/ID/ws (docs/websocket.md), each streaming
          --sessions N           sessions to open                                 [1000]
          --rate R               connects a second during the ramp                [500]
          --settle D             wait after the ramp before the hold              [5s]
          --duration D           the hold: the measured window                    [30s]
          --text T               each user_message's text                         [{WsOptions.DefaultText}]
          --model M              model of each user_message                       [the node's default]
          --stall D              a session with no token for longer is not streaming [5s]
          --think D              pause after done before the next user_message    [0]
          --fallback-pause D     pause after fallback (or session-busy) before the next [5s]
          --connect-timeout D    [15s]    --close-timeout D  [15s]
          --receive-buffer B     bytes per socket's receive buffer                [1024]
          --session-prefix P     session ids are P-0, P-1, ...                    [lg-<random>]
          --node-gc false        skip the full GC (GET /admin/node?gc=true) before the ramp and at the end of the hold
          --silent               connect and read only, never send a user_message (the cost of an idle socket)

        rest  N sessions x M non-streamed POST /v1/chat/completions (X-Session-Id), then idle
          --sessions N           [10000]   --calls M  [1]   --concurrency C  [64]
          --text T               [Say hello.] (each call appends "(call k)": a new task each call)
          --model M              [haiku]
          --warmup-sessions W    sessions called once before the first reading    [500]
          --node-memory false    skip GET /admin/node?gc=true before and after (bytes per session)
          --session-prefix P     [lg-<random>]

        mix   agent tasks at a steady rate over REST, SSE and WebSocket, each on a new session; a share are runaway
              agents ([[sim:loop]]: answer every tool call until the gateway trips them). Failures on the wire
              (refused, reset, 502/503/504/429, cut-short streams, closed sockets) are counted by kind and the same
              request is sent again (a WebSocket reconnects), up to --retries times with a doubling pause (429/503
              and a WebSocket rate-limited error: after the wait the gateway names). A resend continues the same task
              for the gateway (same conversation), so it never resets a loop count.
          --rate R               new tasks a second                               [5]
          --duration D           how long tasks are started                        [30s]
          --concurrency C        tasks under way at most (a due task waits)       [64]
          --transports W         weights, e.g. rest=1,sse=1,ws=1 or ws=0          [rest=1,sse=1,ws=1]
          --runaway-share S      share of runaway agents (0-1)                    [0.2]
          --tool-share S         share of the other agents doing one tool round trip [0.5]
          --model M              [haiku]   --api-key K  tenant key (Authorization: Bearer; never in the report)
          --model-latency MS     each simulated model answer takes MS ([[sim:latency=MS]]): longer tasks, more in flight [0]
          --max-loops N          the gateway's Governance:MaxLoops, to check runaway agents against [5]
          --retries N            resends of one request after a failure           [5]
          --retry-delay D        pause before the first resend, doubled each time (at most 32x) [200ms]
          --request-timeout D    one request, or a socket's silence               [30s]
          --task-timeout D       one task, retries included                       [90s]
          --drain D              after --duration, wait this long for tasks under way, then cancel them [30s]
          --session-prefix P     session ids are P-TRANSPORT-KIND-N (KIND r runaway, t tool, n plain) [mx-<random>]
          --seed N               the transport and kind draws                     [random]
          The report lists every runaway task with the model answers it got before the trip (max must stay at or
          below --max-loops), every session that tripped, errors by kind and latency per transport.

        table REPORT.json...     a Markdown table, one row per ws report (benchmarks/ws/run.sh)

        Durations: 30 (seconds), 30s, 500ms, 2m. Each client socket is a file descriptor: the soft limit is raised
        to the hard one as needed (check ulimit -Hn). The node needs as many again in its own process.
        Exit codes: 0 ran (see the report for errors), 2 bad options.
        """);
}
