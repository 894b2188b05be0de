using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentGateway.TestSupport;
using Xunit.Abstractions;

namespace AgentGateway.Cluster.Tests;

/// <summary>
/// Three nodes forming one Orleans cluster (Redis membership) behind nginx with their state in DynamoDB (dynalite), load from <c>agent-loadgen mix</c> over REST,
/// SSE and WebSocket with runaway agents among normal ones, and one node killed (SIGKILL) in the middle of it.
/// </summary>
public sealed partial class ScaleOutTests(ITestOutputHelper output)
{
    private const int MaxLoops = 5;

    /// <summary>
    /// Failover bound: the requests in flight on the killed node when it dies fail (502 from nginx, a reset, a cut
    /// stream, a closed socket) and are sent again by the agents. At 8 tasks a second, each model answer taking
    /// 300 ms (a runaway task ~2 s), about ten tasks are under way at a time, a third of them on the killed node;
    /// 25 leaves room for each of those to be resent a few times. No task may fail.
    /// </summary>
    private const int MaxErrorsDuringFailover = 25;

    [Fact]
    public async Task Runaway_agents_stay_within_the_loop_limit_and_alert_once_while_a_node_dies()
    {
        await using var cluster = await LocalCluster.StartAsync(nodes: 3, MaxLoops);
        try
        {
            await RunAsync(cluster);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    private async Task RunAsync(LocalCluster cluster)
    {
        var report = Path.Combine(cluster.Root, "mix.json");
        var prefix = "scale-" + Guid.NewGuid().ToString("N")[..8];
        await using var load = LoadGenProcess.Start(cluster.LoadGenDll,
        [
            "mix",
            "--url", cluster.Gateway.ToString().TrimEnd('/'),
            "--rate", "8",
            "--duration", "18s",
            "--concurrency", "64",
            "--transports", "rest=1,sse=1,ws=1",
            "--runaway-share", "0.3",
            "--model-latency", "300",
            "--max-loops", MaxLoops.ToString(CultureInfo.InvariantCulture),
            "--retries", "6",
            "--retry-delay", "250ms",
            "--drain", "25s",
            "--session-prefix", prefix,
            "--seed", "20261122",
            "--report", report,
        ]);

        // Mid-run, once tasks are being completed through every node: node 2 crashes.
        await load.WhenTasksDone(25).WaitAsync(TimeSpan.FromSeconds(30));
        await cluster.KillNodeAsync(1);
        output.WriteLine($"killed node2 (port {cluster.NodePorts[1]}) after 25 tasks were done");
        var recovered = WhenDeclaredDeadAsync(cluster.NodeUrl(0), "node2");

        var exit = await load.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(load.Output);
        var recovery = await recovered.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"recovery: node2's silo left the membership {recovery.TotalMilliseconds:F0} ms after the kill (its sessions reactivate on the survivors from then on)");
        recovery.ShouldBeLessThan(TimeSpan.FromSeconds(15));
        exit.ShouldBe(0, load.Output);

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var result = document.RootElement.GetProperty("result");
        var runaway = result.GetProperty("runaway");
        var tripped = result.GetProperty("trippedSessions").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var runawayTasks = result.GetProperty("runawayTasks").EnumerateArray().ToArray();
        var errors = result.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        var outcomes = result.GetProperty("outcomes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        output.WriteLine($"tasks {result.GetProperty("tasksFinished")}, failed {result.GetProperty("tasksFailed")}, runaway {runaway.GetProperty("tasks")}, tripped {tripped.Length}, errors {errors.Values.Sum()} ({string.Join(", ", errors.Select(e => $"{e.Key}: {e.Value}"))}), retries {result.GetProperty("retries")}");

        // 1. No runaway agent got more model answers than the loop limit, even those whose node died under them.
        runawayTasks.Length.ShouldBeGreaterThan(10);
        foreach (var task in runawayTasks)
        {
            task.GetProperty("modelAnswers").GetInt32().ShouldBeLessThanOrEqualTo(MaxLoops, task.ToString());
        }

        runaway.GetProperty("maxModelAnswers").GetInt32().ShouldBeLessThanOrEqualTo(MaxLoops);
        runaway.GetProperty("overLimit").GetInt32().ShouldBe(0);

        // 2. Every runaway agent was stopped by a trip; no normal agent was.
        runawayTasks.Where(t => t.GetProperty("outcome").GetString() != "tripped").ShouldBeEmpty();
        outcomes.Keys.Where(k => k.StartsWith("normal:", StringComparison.Ordinal) && k != "normal:ok").ShouldBeEmpty(string.Join(", ", outcomes));

        // 3. Failover cost errors, all counted, all absorbed by resends: no task failed.
        result.GetProperty("tasksFailed").GetInt64().ShouldBe(0);
        errors.Values.Sum().ShouldBeLessThanOrEqualTo(MaxErrorsDuringFailover, string.Join(", ", errors));

        // 4. Every trip the clients saw is in the durable state, read on a node that survived.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var survivor = cluster.NodeUrl(0);
        foreach (var id in tripped)
        {
            var session = await GetSessionAsync(http, survivor, id);
            session.ShouldNotBeNull($"session {id} is not stored");
            session.Value.GetProperty("status").GetString().ShouldBe("tripped", $"session {id}: {session}");
        }

        // 5. The killed node, started again on the same data, sees the sessions it served before it died.
        var servedByKilled = SessionsServedBy(await File.ReadAllTextAsync(cluster.AccessLog), cluster.NodePorts[1], prefix);
        output.WriteLine($"node2 served {servedByKilled.Count} sessions before it was killed");
        servedByKilled.ShouldNotBeEmpty();
        await cluster.StartNodeAsync(1);
        var restarted = cluster.NodeUrl(1);
        foreach (var id in servedByKilled)
        {
            var again = await GetSessionAsync(http, restarted, id);
            again.ShouldNotBeNull($"the restarted node does not see session {id}");
            var elsewhere = await GetSessionAsync(http, survivor, id);
            again.Value.GetProperty("status").GetString().ShouldBe(elsewhere!.Value.GetProperty("status").GetString(), id);
            again.Value.GetProperty("loopCount").GetInt32().ShouldBe(elsewhere.Value.GetProperty("loopCount").GetInt32(), id);
            if (tripped.Contains(id))
            {
                again.Value.GetProperty("status").GetString().ShouldBe("tripped", id);
            }
        }

        // 6. Each tripped session raised exactly one alert, delivered to the webhook by the cluster's one outbox grain: on
        //    the silo it lived on, or, if that was the killed one, activated on a survivor (its reminder, or the next
        //    trip) reading what was left undelivered in the table.
        await cluster.Webhook.WhenReceived(received => tripped.All(id => received.Any(r => MentionsSession(r, id))))
            .WaitAsync(TimeSpan.FromSeconds(40));
        AssertOneAlertEach(cluster.Webhook.Received, tripped, killedNode: "node2");
    }

    /// <summary>
    /// How long after the kill <paramref name="node"/> stopped being an active silo in the membership a survivor reads
    /// (<c>GET /admin/nodes</c>). Sampled every 100 ms: another process's membership has no push channel to a test.
    /// </summary>
    private static async Task<TimeSpan> WhenDeclaredDeadAsync(Uri survivor, string node)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (await tick.WaitForNextTickAsync())
        {
            using var response = await http.GetAsync(new Uri(survivor, "/admin/nodes"));
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            using var nodes = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (!nodes.RootElement.GetProperty("nodes").EnumerateArray().Any(n => n.GetProperty("node").GetString() == node))
            {
                return clock.Elapsed;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    private static async Task<JsonElement?> GetSessionAsync(HttpClient http, Uri node, string id)
    {
        using var response = await http.GetAsync(new Uri(node, "/admin/sessions/" + Uri.EscapeDataString(id)));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>
    /// One alert (one message id) per tripped session. The outbox marks an alert delivered right after the sink accepted
    /// it, so a SIGKILL in the instant between the two publishes it once more when the killed node starts again, with the
    /// same message id (README, "Exactly once per sink, given one outbox"): a second copy is accepted only for an alert
    /// the killed node raised, never a second id, never a third copy.
    /// </summary>
    private static void AssertOneAlertEach(IReadOnlyList<ReceivedRequest> received, IEnumerable<string> tripped, string killedNode)
    {
        foreach (var id in tripped)
        {
            var alerts = received.Where(r => MentionsSession(r, id)).Select(r => (r.Body, Fields: AlertFields(r))).ToList();
            var because = $"session {id}: {string.Join("\n", alerts.Select(a => a.Body))}";
            alerts.Select(a => a.Fields["alert"]).Distinct(StringComparer.Ordinal).Count().ShouldBe(1, because);
            var allowed = alerts[0].Fields["node"] == killedNode ? 2 : 1;
            alerts.Count.ShouldBeLessThanOrEqualTo(allowed, because);
        }
    }

    /// <summary>The <c>*name* value</c> pairs of a Slack alert's context block (session, node, alert id …).</summary>
    private static Dictionary<string, string> AlertFields(ReceivedRequest request)
    {
        using var document = JsonDocument.Parse(request.Body);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var block in document.RootElement.GetProperty("blocks").EnumerateArray())
        {
            if (block.GetProperty("type").GetString() != "context")
            {
                continue;
            }

            foreach (var element in block.GetProperty("elements").EnumerateArray())
            {
                if (ContextField().Match(element.GetProperty("text").GetString()!) is { Success: true } field)
                {
                    fields[field.Groups["name"].Value] = field.Groups["value"].Value;
                }
            }
        }

        return fields;
    }

    /// <summary>A Slack alert whose text names the session: <c>CRITICAL: Session ID [id] terminated due to …</c>.</summary>
    private static bool MentionsSession(ReceivedRequest request, string sessionId)
    {
        using var document = JsonDocument.Parse(request.Body);
        return document.RootElement.TryGetProperty("text", out var text)
            && text.GetString()!.Contains($"Session ID [{sessionId}]", StringComparison.Ordinal);
    }

    /// <summary>The sessions of this run that nginx's access log shows answered by the node on <paramref name="port"/>.</summary>
    private static HashSet<string> SessionsServedBy(string accessLog, int port, string prefix)
    {
        var node = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");
        var sessions = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match line in AccessLogLine().Matches(accessLog))
        {
            // After a failover $upstream_addr lists every node tried; the last one answered.
            var answeredBy = line.Groups["node"].Value.Split(',', StringSplitOptions.TrimEntries)[^1];
            var status = line.Groups["status"].Value;
            var key = line.Groups["key"].Value;
            if (answeredBy == node && status is "200" or "101" && key.StartsWith(prefix, StringComparison.Ordinal))
            {
                sessions.Add(key);
            }
        }

        return sessions;
    }

    // deploy/nginx/nginx.conf's log format: ... "$request" $status $bytes rt=… urt=… node=$upstream_addr key="$session_key"
    [GeneratedRegex(@"^\*(?<name>[^*]+)\* `?(?<value>[^`]*)`?$")]
    private static partial Regex ContextField();

    [GeneratedRegex("\" (?<status>\\d{3}) \\d+ rt=\\S+ urt=\\S+(?: \\S+)* node=(?<node>[^k]*?) key=\"(?<key>[^\"]*)\"", RegexOptions.Multiline)]
    private static partial Regex AccessLogLine();
}
