using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Tests;
using AgentGateway.Silo.Tests.Infrastructure;
using AgentGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using AgentGateway.Silo.Hosting;
using Xunit.Abstractions;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// Alerts end to end: sessions driven over HTTP on a real node until they trip, alerts published to real loopback
/// SNS and Slack endpoints, the outbox on disk across a node restart, <c>/admin/alerts</c> and <c>/metrics</c>.
/// </summary>
public sealed class AlertsTests : IAsyncLifetime, IDisposable
{
    private const string TopicArn = "arn:aws:sns:us-east-1:123456789012:gateway-alerts";
    private readonly ITestOutputHelper _output;
    private readonly string _outbox = Path.Combine(Path.GetTempPath(), "alerts-node-" + Guid.NewGuid().ToString("N"));
    private LoopbackEndpoint _sns = null!;
    private LoopbackEndpoint _slack = null!;

    public AlertsTests(ITestOutputHelper output)
    {
        _output = output;
        AwsTestCredentials.Use();
    }

    public async Task InitializeAsync()
    {
        _sns = await LoopbackEndpoint.StartAsync();
        _slack = await LoopbackEndpoint.StartAsync();
    }

    /// <summary>
    /// Time source: the node's injected clock (a fake one here), which stamps both the trip (<c>trippedAt</c>, in the
    /// session grain's turn) and each sink's delivery (<c>deliveredAt</c>, when the sink accepted the publish). The
    /// alert waits only for its batch window (250 ms here, 200 ms by default); the test lets exactly that much time
    /// pass, so the trip-to-publish latency is exact: 250 ms, against the 1 s promise. (On the real clock, with the
    /// default window, the same path measured 265–340 ms: docs/benchmarks.md.)
    /// </summary>
    [Fact]
    public async Task Alerts_SessionTripsOverHttp_OneAlertToSnsAndSlackWithinOneSecond_SecondRequestNoSecondAlert()
    {
        var window = TimeSpan.FromMilliseconds(250);
        var signals = new AlertSignals();
        await using var node = new AlertNode(Settings(batch: window), signals);
        var sessionA = GatewayFixture.NewSessionId();

        var batched = node.Time.WhenTimerArmed(window);
        await Chat.TripAsync(node.Http, sessionA);
        await batched;
        node.Time.Advance(window);
        await Task.WhenAll(_sns.WhenReceivedCount(1), _slack.WhenReceivedCount(1));
        await signals.WhenDelivered(2);

        var trippedAt = DateTimeOffset.Parse((string)(await node.GetSessionAsync(sessionA))["trippedAt"]!, CultureInfo.InvariantCulture);
        var published = (await node.Http.GetFromJsonAsync<JsonObject>("/admin/alerts"))!["alerts"]!.AsArray().Single()!["deliveries"]!.AsArray();
        published.Select(d => DateTimeOffset.Parse((string)d!["deliveredAt"]!, CultureInfo.InvariantCulture) - trippedAt)
            .ShouldAllBe(latency => latency == window);
        window.ShouldBeLessThan(TimeSpan.FromSeconds(1));
        var form = _sns.Received[0].Form();
        form["Action"].ShouldBe("Publish");
        form["TopicArn"].ShouldBe(TopicArn);
        ((string?)JsonNode.Parse(form["Message"])!["text"]).ShouldBe($"CRITICAL: Session ID [{sessionA}] terminated due to loop limit");
        SigV4.AuthorizationShape().IsMatch(_sns.Received[0].Headers["Authorization"]).ShouldBeTrue();
        ((string?)JsonNode.Parse(_slack.Received[0].Body)!["text"]).ShouldBe($"CRITICAL: Session ID [{sessionA}] terminated due to loop limit");

        // The tripped session is asked again: refused again, and no second alert. A second session's trip is the
        // barrier: any alert is stored before its request is answered, so a second alert for A would be in the outbox
        // before B's trip is, and published in B's batch at the latest.
        using (var again = await PostAsync(node.Http, sessionA, Chat.LoopRequest()))
        {
            again.Headers.GetValues("X-Gateway-Trip").Single().ShouldBe("loop_limit");
        }

        var sessionB = GatewayFixture.NewSessionId();
        batched = node.Time.WhenTimerArmed(window);
        await Chat.TripAsync(node.Http, sessionB);
        await batched;
        node.Time.Advance(window);
        await signals.WhenDelivered(4);

        MessageTexts(_sns).ShouldBe([
            $"CRITICAL: Session ID [{sessionA}] terminated due to loop limit",
            $"CRITICAL: Session ID [{sessionB}] terminated due to loop limit"]);
        _slack.Received.Count.ShouldBe(2);

        var alerts = await node.Http.GetFromJsonAsync<JsonObject>("/admin/alerts");
        alerts!["sinks"]!.AsArray().Select(s => (string?)s).ShouldBe(["sns", "slack"]);
        var listed = alerts["alerts"]!.AsArray();
        listed.Count.ShouldBe(2);
        var alertA = listed.Single(a => (string?)a!["body"]!["session_id"] == sessionA)!;
        ((string?)alertA["kind"]).ShouldBe("session_tripped");
        ((int)alertA["body"]!["loop_count"]!).ShouldBe(5);
        ((string?)alertA["body"]!["tenant"]).ShouldBe("local"); // loopback callers with no tenant keys are the implicit tenant
        ((string?)alertA["body"]!["model"]).ShouldBe("haiku");
        foreach (var delivery in alertA["deliveries"]!.AsArray())
        {
            ((string?)delivery!["status"]).ShouldBe("delivered");
            ((int)delivery["attempts"]!).ShouldBe(1);
            delivery["lastError"].ShouldBeNull();
        }

        var metrics = await node.Http.GetStringAsync("/metrics");
        Value(metrics, "gateway_alerts_raised_total{kind=\"session_tripped\"}").ShouldBe(2);
        Value(metrics, "gateway_alerts_delivered_total{sink=\"sns\"}").ShouldBe(2);
        Value(metrics, "gateway_alerts_delivered_total{sink=\"slack\"}").ShouldBe(2);
    }

    /// <summary>On the usual frozen fake clock: the batch window and the retry wait pass only when the test advances time.</summary>
    [Fact]
    public async Task Alerts_SnsDownThenUpAcrossNodeRestart_EveryStoredAlertDeliveredExactlyOnce()
    {
        var batch = TimeSpan.FromMilliseconds(250);
        var settings = Settings(sinks: "sns", batch: batch);
        _sns.Status = static _ => 503;
        var sessions = new[] { GatewayFixture.NewSessionId(), GatewayFixture.NewSessionId() };

        var firstSignals = new AlertSignals();
        await using (var first = new AlertNode(settings, firstSignals))
        {
            var windowArmed = first.Time.WhenTimerArmed(batch);
            foreach (var session in sessions)
            {
                await Chat.TripAsync(first.Http, session);
            }

            await windowArmed;
            first.Time.Advance(batch);
            await firstSignals.WhenFailed(2);

            var alerts = (await first.Http.GetFromJsonAsync<JsonObject>("/admin/alerts"))!["alerts"]!.AsArray();
            alerts.Count.ShouldBe(2);
            foreach (var alert in alerts)
            {
                var sns = alert!["deliveries"]!.AsArray().Single()!;
                ((string?)sns["status"]).ShouldBe("retrying");
                ((int)sns["attempts"]!).ShouldBe(1);
                ((string?)sns["lastError"])!.ShouldStartWith("SNS Publish answered 503");
            }

            var metrics = await first.Http.GetStringAsync("/metrics");
            Value(metrics, "gateway_alerts_raised_total{kind=\"session_tripped\"}").ShouldBe(2);
            Value(metrics, "gateway_alerts_failed_total{sink=\"sns\"}").ShouldBe(2);
        }

        _sns.Status = static _ => 200;
        var secondSignals = new AlertSignals();
        await using (var second = new AlertNode(settings, secondSignals))
        {
            await secondSignals.WhenDelivered(2);

            var delivered = _sns.Received.Where(r => r.AnsweredStatus == 200).ToList();
            delivered.Select(r => r.Form()["MessageAttributes.entry.1.Value.StringValue"]).Distinct().Count().ShouldBe(2);
            MessageTexts(_sns, onlyStatus: 200).Order().ShouldBe(
                sessions.Select(s => $"CRITICAL: Session ID [{s}] terminated due to loop limit").Order());
            (await new FileAlertOutboxStore(_outbox).ListPendingAsync()).ShouldBeEmpty();

            var alerts = (await second.Http.GetFromJsonAsync<JsonObject>("/admin/alerts"))!["alerts"]!.AsArray();
            alerts.Select(a => (string?)a!["deliveries"]![0]!["status"]).ShouldBe(["delivered", "delivered"]);
            alerts.Select(a => (int)a!["deliveries"]![0]!["attempts"]!).ShouldBe([2, 2]);
            var metrics = await second.Http.GetStringAsync("/metrics");
            Value(metrics, "gateway_alerts_delivered_total{sink=\"sns\"}").ShouldBe(2);
        }

        _sns.Received.Count.ShouldBe(4);
    }

    [Fact]
    public async Task Alerts_BreakerIsolatedThenClosedByOperator_OpenedAndClosedAlerts_TransitionsStillCounted()
    {
        var signals = new AlertSignals();
        await using var node = new AlertNode(Settings(sinks: "sns", batch: TimeSpan.Zero), signals);

        (await node.Http.PostAsync("/admin/breakers/haiku/isolate", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await signals.WhenDelivered(1);
        (await node.Http.PostAsync("/admin/breakers/haiku/close", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await signals.WhenDelivered(2);

        MessageTexts(_sns).ShouldBe([
            "CRITICAL: Circuit breaker for model [haiku] isolated by an operator: calls go to the fallback chain",
            "RESOLVED: Circuit breaker for model [haiku] closed (manual_close): calls flow again"]);
        var kinds = _sns.Received.Select(r => r.Form()["MessageAttributes.entry.2.Value.StringValue"]).ToList();
        kinds.ShouldBe(["breaker_opened", "breaker_closed"]);
        var metrics = await node.Http.GetStringAsync("/metrics");
        Value(metrics, "gateway_breaker_transitions_total{model=\"haiku\",reason=\"Isolated\",to=\"isolated\"}").ShouldBe(1);
        Value(metrics, "gateway_alerts_raised_total{kind=\"breaker_opened\"}").ShouldBe(1);
        Value(metrics, "gateway_alerts_raised_total{kind=\"breaker_closed\"}").ShouldBe(1);
    }

    [Fact]
    public void AlertOptions_SnsSinkWithoutTopicAndUnknownSink_EveryErrorListedAsTheNodeReportsThem()
    {
        var validator = new CompleteOptionsValidator<AlertOptions>(AlertOptions.SectionName);

        var result = validator.Validate(null, new AlertOptions { Sinks = "sns,pager", BatchWindow = TimeSpan.FromSeconds(-1) });

        result.Failures.ShouldBe([
            "Alerts:Sinks: unknown sink 'pager' (use log, slack, sns).",
            "Alerts:BatchWindow must be between 0 and 10 s (was -00:00:01).",
            "Alerts:Sns:TopicArn must be a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME) when the sns sink is on (was '').",
        ]);
        validator.Validate(null, new AlertOptions()).Succeeded.ShouldBeTrue();
    }

    private Dictionary<string, string> Settings(string sinks = "sns,slack", TimeSpan? batch = null)
    {
        var settings = new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Alerts:Sinks"] = sinks,
            ["Alerts:OutboxDirectory"] = _outbox,
            ["Alerts:Sns:TopicArn"] = TopicArn,
            ["Alerts:Sns:ServiceUrl"] = _sns.BaseAddress.ToString(),
            ["Alerts:Slack:WebhookUrl"] = new Uri(_slack.BaseAddress, "/services/T/B/X").ToString(),
        };
        if (batch is { } window)
        {
            settings["Alerts:BatchWindow"] = window.ToString("c", CultureInfo.InvariantCulture);
        }

        return settings;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string session, JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", session);
        return http.SendAsync(request);
    }

    private static List<string> MessageTexts(LoopbackEndpoint sns, int? onlyStatus = null) => sns.Received
        .Where(r => onlyStatus is null || r.AnsweredStatus == onlyStatus)
        .Select(r => (string)JsonNode.Parse(r.Form()["Message"])!["text"]!)
        .ToList();

    private static long Value(string scrape, string series)
    {
        foreach (var line in scrape.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return long.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        throw new ShouldAssertException($"No series {series} in the scrape.");
    }

    public async Task DisposeAsync()
    {
        await _sns.DisposeAsync();
        await _slack.DisposeAsync();
    }

    public void Dispose()
    {
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }
    }

    /// <summary>A node with alert settings, an <see cref="AlertSignals"/> listener, and optionally the real clock.</summary>
    private sealed class AlertNode : IAsyncDisposable
    {
        private readonly GatewayFactory _factory;

        public AlertNode(IReadOnlyDictionary<string, string> settings, AlertSignals signals, bool realTime = false)
        {
            _factory = new GatewayFactory(settings, services =>
            {
                services.AddSingleton<IAlertObserver>(signals);
                if (realTime)
                {
                    services.AddSingleton(TimeProvider.System);
                }
            });
            Http = new HttpClient { BaseAddress = _factory.StartOnKestrel() };
        }

        public HttpClient Http { get; }

        public FakeTimeProvider Time => _factory.Time;

        public async Task<JsonObject> GetSessionAsync(string sessionId) =>
            (await Http.GetFromJsonAsync<JsonObject>($"/admin/sessions/{sessionId}"))!;

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _factory.DisposeAsync();
        }
    }
}
