using System.Net;
using System.Text.Json.Nodes;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Silo.Tests.Infrastructure;
using AgentGateway.TestSupport;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The embedded default's alert outbox against a real crash: the node runs as a process of its own (real clock, real
/// files), is killed with SIGKILL right after the last trip was answered, and is started again on the same outbox
/// directory. The defect this guards: a trip answered before its alert was stored, so a crash lost the alert.
/// </summary>
public sealed class AlertDurabilityTests : IAsyncLifetime, IDisposable
{
    private const int Sessions = 20;
    private readonly string _outbox = Path.Combine(Path.GetTempPath(), "alerts-durability-" + Guid.NewGuid().ToString("N"));
    private LoopbackEndpoint _slackDown = null!;
    private LoopbackEndpoint _slackUp = null!;

    public async Task InitializeAsync()
    {
        _slackDown = await LoopbackEndpoint.StartAsync();
        _slackDown.Status = static _ => 503;
        _slackUp = await LoopbackEndpoint.StartAsync();
    }

    [Fact]
    public async Task Outbox_NodeKilledRightAfterTheLastOf20TripsWasAnswered_20AlertsOnDisk_RestartedNodeDeliversEachOnce()
    {
        var sessions = Enumerable.Range(0, Sessions).Select(_ => GatewayFixture.NewSessionId()).ToArray();

        // The first node's webhook answers 503: nothing it stores can be delivered before it dies.
        await using (var first = await SiloProcess.StartAsync(Settings(_slackDown)))
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress };
            foreach (var session in sessions)
            {
                await Chat.TripAsync(http, session);
            }

            await first.KillAsync();
        }

        Directory.GetFiles(_outbox, "*.json").Length.ShouldBe(Sessions);
        var stored = await new FileAlertOutboxStore(_outbox).ListPendingAsync();
        stored.Select(r => r.Alert.Body.SessionId).Order().ShouldBe(sessions.Order());
        stored.ShouldAllBe(r => r.Deliveries.Count == 1 && r.Deliveries[0].Sink == "slack" && r.Deliveries[0].DeliveredAt == null);
        var ids = stored.Select(r => r.Alert.MessageId).Order().ToList();

        // A second node on the same directory (a new process id, a webhook that answers) delivers what the first left.
        await using (var second = await SiloProcess.StartAsync(Settings(_slackUp)))
        {
            using var http = new HttpClient { BaseAddress = second.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            await _slackUp.WhenReceivedCount(Sessions);
            await AllDeliveredAsync(http);

            // Sessions were in the first node's memory: a tripped session comes back as new; its alert was kept.
            using var session = await http.GetAsync($"/admin/sessions/{sessions[0]}");
            session.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            await second.KillAsync();
        }

        _slackUp.Received.Select(AlertIdOf).Order().ShouldBe(ids);
        _slackUp.Received.ShouldAllBe(r => r.AnsweredStatus == 200);
        (await new FileAlertOutboxStore(_outbox).ListPendingAsync()).ShouldBeEmpty();
    }

    private Dictionary<string, string> Settings(LoopbackEndpoint slack) => new(GatewayFixture.SharedSettings)
    {
        ["Alerts:Sinks"] = "slack",
        ["Alerts:Slack:WebhookUrl"] = new Uri(slack.BaseAddress, "/services/T/B/X").ToString(),
        ["Alerts:OutboxDirectory"] = _outbox,
        ["Dashboard:Interval"] = "00:00:00.05",
    };

    /// <summary>
    /// Reads the dashboard feed (pushed when something changed) until it shows every alert delivered: the node has then
    /// marked each in the outbox, so nothing it publishes later could go unnoticed.
    /// </summary>
    private static async Task AllDeliveredAsync(HttpClient http)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await http.GetAsync("/admin/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var alerts = JsonNode.Parse(line["data: ".Length..])!["alerts"]!.AsArray();
            if (alerts.Count == Sessions && alerts.All(a => a!["deliveries"]!.AsArray().All(d => (string?)d!["status"] == "delivered")))
            {
                return;
            }
        }

        throw new ShouldAssertException("The dashboard feed ended before every alert was delivered.");
    }

    /// <summary>The alert's message id, the last fact of the Slack payload's context block (<c>*alert* {id}</c>).</summary>
    private static string AlertIdOf(ReceivedRequest request)
    {
        var facts = JsonNode.Parse(request.Body)!["blocks"]![1]!["elements"]!.AsArray();
        var last = (string)facts[^1]!["text"]!;
        last.ShouldStartWith("*alert* ");
        return last["*alert* ".Length..];
    }

    public async Task DisposeAsync()
    {
        await _slackDown.DisposeAsync();
        await _slackUp.DisposeAsync();
    }

    public void Dispose()
    {
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }
    }
}
