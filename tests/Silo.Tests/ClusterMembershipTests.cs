using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Actors.Breakers;
using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Cluster;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Storage;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Tests.Infrastructure;
using AgentGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// Several nodes sharing one set of stores (in memory here; DynamoDB in the storage and cluster tests): the registry and
/// <c>GET /admin/nodes</c>, a dead node's alerts adopted by exactly one survivor, trips with no alert raised once, and a
/// breaker isolated on one node seen by another within one refresh interval of its clock.
/// </summary>
public sealed class ClusterMembershipTests : IAsyncLifetime
{
    private readonly InMemoryNodeRegistry _registry = new();
    private readonly InMemorySessionStore _sessions = new();
    private readonly InMemoryBreakerStore _breakers = new();
    private readonly InMemoryAlertOutboxStore _outbox = new();
    private LoopbackEndpoint _slack = null!;

    public async Task InitializeAsync() => _slack = await LoopbackEndpoint.StartAsync();

    public async Task DisposeAsync() => await _slack.DisposeAsync();

    [Fact]
    public async Task Nodes_TwoNodesShareARegistry_EachListsBoth_ANodeThatStopsHeartbeatingAgesOutOnTheOthersClock()
    {
        await using var a = Node("node-a");
        await using var b = Node("node-b");

        var view = await a.Http.GetFromJsonAsync<JsonObject>("/admin/nodes");
        ((string)view!["self"]!).ShouldBe("node-a");
        ((double)view["deadAfterSeconds"]!).ShouldBe(10);
        var nodes = view["nodes"]!.AsArray();
        nodes.Select(n => (string)n!["node"]!).ShouldBe(["node-a", "node-b"]);
        nodes.Select(n => (bool)n!["self"]!).ShouldBe([true, false]);
        ((string)nodes[1]!["address"]!).ShouldStartWith("http://127.0.0.1:");

        // Only node-a's clock moves: node-b's last heartbeat grows old from node-a's point of view.
        a.Time.Advance(TimeSpan.FromSeconds(10));
        var aged = (await a.Http.GetFromJsonAsync<JsonObject>("/admin/nodes"))!["nodes"]!.AsArray();
        aged.Count.ShouldBe(2, "10 s is not older than Cluster:DeadAfter");
        aged.Select(n => (double)n!["heartbeatAgeSeconds"]!).ShouldBe([0, 10], "node-a answers with its own record as of now");
        a.Time.Advance(TimeSpan.FromSeconds(1));
        (await a.Http.GetFromJsonAsync<JsonObject>("/admin/nodes"))!["nodes"]!.AsArray()
            .Select(n => (string)n!["node"]!).ShouldBe(["node-a"]);

        // node-a's next heartbeat takes node-b's record out of the registry.
        await a.Membership.HeartbeatAsync(CancellationToken.None);
        (await _registry.ListAsync()).Select(static n => n.NodeId).ShouldBe(["node-a"]);
    }

    [Fact]
    public async Task Heartbeat_RunsOnTheNodesClock_WritesItsCountsAndTime_AndACleanStopRemovesIt()
    {
        await using var a = Node("node-a");
        var started = a.Time.GetUtcNow();
        using (var response = await PostAsync(a.Http, "hb-session", Chat.Request("haiku", "hello")))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var next = a.Membership.NextHeartbeat;
        a.Time.Advance(TimeSpan.FromSeconds(2));
        await next.WaitAsync(TimeSpan.FromSeconds(30));

        var record = (await _registry.ListAsync()).ShouldHaveSingleItem();
        record.NodeId.ShouldBe("node-a");
        record.HeartbeatAt.ShouldBe(started + TimeSpan.FromSeconds(2));
        record.ExpiresAt.ShouldBe(started + TimeSpan.FromSeconds(12));
        record.SessionActivations.ShouldBe(1);

        await a.DisposeAsync();
        (await _registry.ListAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeadNode_ItsUndeliveredAlertIsAdoptedByExactlyOneSurvivor_AndDeliveredOnce()
    {
        await using var a = Node("node-a");
        await using var b = Node("node-b");
        var alert = a.Alerts.Composer.SessionTripped(new SessionTripped("orphaned-alert", TripReason.LoopLimit, 5, 120, a.Time.GetUtcNow()));
        await _outbox.PutAsync(new AlertRecord
        {
            Alert = alert,
            StoredAt = a.Time.GetUtcNow(),
            Node = "node-dead",
            Deliveries = [new SinkDelivery { Sink = "slack", NextAttemptAt = a.Time.GetUtcNow() }],
        });

        // node-dead is not gone yet for anyone: nothing is adopted.
        (await Task.WhenAll(a.Alerts.AdoptAsync(["node-x"]), b.Alerts.AdoptAsync(["node-x"]))).Sum().ShouldBe(0);

        // Both survivors find it gone at once: one conditional hand-over wins.
        var adopted = await Task.WhenAll(a.Alerts.AdoptAsync(["node-dead"]), b.Alerts.AdoptAsync(["node-dead"]));
        adopted.Sum().ShouldBe(1);
        var winner = adopted[0] == 1 ? "node-a" : "node-b";
        (await _outbox.ListRecentAsync(10)).ShouldHaveSingleItem().Node.ShouldBe(winner);

        await _slack.WhenReceivedCount(1).WaitAsync(TimeSpan.FromSeconds(30));
        var received = _slack.Received.ShouldHaveSingleItem();
        ((string)JsonNode.Parse(received.Body)!["text"]!).ShouldBe("CRITICAL: Session ID [orphaned-alert] terminated due to loop limit");
        (await a.Alerts.AdoptAsync(["node-dead"]) + await b.Alerts.AdoptAsync(["node-dead"])).ShouldBe(0);
    }

    [Fact]
    public async Task ReconcileTrips_ATripWithNoAlertGetsExactlyOne_ATripAlreadyAlertedGetsNoSecond()
    {
        await using var a = Node("node-a");
        await using var b = Node("node-b");

        // A trip raised the normal way: one alert.
        for (var call = 1; call <= 6; call++)
        {
            using var response = await PostAsync(a.Http, "tripped-normally", LoopRequest());
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await _slack.WhenReceivedCount(1).WaitAsync(TimeSpan.FromSeconds(30));

        // A trip whose node died before its alert was stored: only the session state knows of it.
        var now = a.Time.GetUtcNow();
        (await _sessions.TryWriteAsync(
            new SessionState("tripped-silently", 1, SessionStatus.Tripped, TripReason.TokenVelocity, now, 1, 1, 7, [7], [], [], now, "local"),
            0,
            CancellationToken.None)).ShouldBeTrue();

        var raised = await Task.WhenAll(a.Membership.ReconcileTripsAsync(CancellationToken.None), b.Membership.ReconcileTripsAsync(CancellationToken.None));
        raised.Sum().ShouldBe(1);
        await _slack.WhenReceivedCount(2).WaitAsync(TimeSpan.FromSeconds(30));
        (await a.Membership.ReconcileTripsAsync(CancellationToken.None)).ShouldBe(0);

        var texts = _slack.Received.Select(r => (string)JsonNode.Parse(r.Body)!["text"]!).ToList();
        texts.ShouldBe(
            [
                "CRITICAL: Session ID [tripped-normally] terminated due to loop limit",
                "CRITICAL: Session ID [tripped-silently] terminated due to runaway token velocity",
            ],
            ignoreOrder: true);
    }

    [Fact]
    public async Task Start_ATripLeftWithoutAnAlertByACrashedNode_IsAlertedOnceByTheNextNodeToStart()
    {
        var now = FakeTimeProvider.DefaultStart;
        (await _sessions.TryWriteAsync(
            new SessionState("tripped-before-start", 1, SessionStatus.Tripped, TripReason.LoopLimit, now, 5, 5, 7, [7], [], [], now, "local"),
            0,
            CancellationToken.None)).ShouldBeTrue();

        await using var a = Node("node-a");
        (await a.Membership.StartupReconcile.WaitAsync(TimeSpan.FromSeconds(30))).ShouldBe(1);
        await _slack.WhenReceivedCount(1).WaitAsync(TimeSpan.FromSeconds(30));
        ((string)JsonNode.Parse(_slack.Received.Single().Body)!["text"]!).ShouldBe("CRITICAL: Session ID [tripped-before-start] terminated due to loop limit");

        await using var b = Node("node-b");
        (await b.Membership.StartupReconcile.WaitAsync(TimeSpan.FromSeconds(30))).ShouldBe(0);
        _slack.Received.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Breaker_IsolatedOnOneNode_SeenByAnotherWithinOneRefreshIntervalOfItsClock()
    {
        await using var a = Node("node-a");
        await using var b = Node("node-b");
        var breakersOnB = b.Services.GetRequiredService<ModelBreakers>();
        (await b.Http.GetFromJsonAsync<JsonObject>("/admin/breakers/haiku"))!["state"]!.GetValue<string>().ShouldBe("closed");

        using (var isolate = await a.Http.PostAsync("/admin/breakers/haiku/isolate", null))
        {
            isolate.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        breakersOnB.ViewOf("haiku")!.Status.ShouldBe(BreakerStatus.Closed, "node-b has not reread the store yet");
        var refreshed = b.Membership.NextBreakerRefresh;
        b.Time.Advance(TimeSpan.FromMilliseconds(500));
        await refreshed.WaitAsync(TimeSpan.FromSeconds(30));
        breakersOnB.ViewOf("haiku")!.Status.ShouldBe(BreakerStatus.Isolated);

        // node-b's callers now take the fallback route without any call to the isolated model.
        using var answer = await PostAsync(b.Http, "after-isolate", Chat.Request("haiku", "hello"));
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        answer.Header("X-Gateway-Route").ShouldNotBe("primary");
    }

    [Fact]
    public void Options_DeadAfterShorterThanTwoHeartbeats_IsAConfigurationError()
    {
        var errors = new ClusterOptions { HeartbeatInterval = TimeSpan.FromSeconds(5), DeadAfter = TimeSpan.FromSeconds(6), BreakerRefreshInterval = TimeSpan.FromMilliseconds(10) }
            .Validate(new System.ComponentModel.DataAnnotations.ValidationContext(new object()))
            .Select(static r => r.ErrorMessage)
            .ToList();
        errors.ShouldBe(
            [
                "Cluster:DeadAfter must be at least twice Cluster:HeartbeatInterval (was 00:00:06, heartbeat 00:00:05): one late heartbeat must not declare a node dead.",
                "Cluster:BreakerRefreshInterval must be zero (off) or at least 00:00:00.05 (was 00:00:00.0100000).",
            ]);
    }

    private ClusterNode Node(string id) => new(id, new Dictionary<string, string>(GatewayFixture.SharedSettings)
    {
        ["Cluster:NodeId"] = id,
        ["Alerts:Sinks"] = "slack",
        ["Alerts:BatchWindow"] = "00:00:00",
        ["Alerts:Slack:WebhookUrl"] = new Uri(_slack.BaseAddress, "/services/T/B/X").ToString(),
    }, services =>
    {
        services.AddSingleton<INodeRegistry>(_registry);
        services.AddSingleton<ISessionStore>(_sessions);
        services.AddSingleton<ISessionCatalog>(_sessions);
        services.AddSingleton<IBreakerStore>(_breakers);
        services.AddSingleton<IAlertOutboxStore>(_outbox);
    });

    private static JsonObject LoopRequest() =>
        Chat.Request("haiku", [Chat.User("stuck [[sim:loop]]"), Chat.AssistantToolCall("call_1"), Chat.Tool("call_1", "no luck")], tools: true);

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string session, JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", session);
        return http.SendAsync(request);
    }

    private sealed class ClusterNode : IAsyncDisposable
    {
        private readonly GatewayFactory _factory;
        private bool _disposed;

        public ClusterNode(string id, IReadOnlyDictionary<string, string> settings, Action<IServiceCollection> services)
        {
            Id = id;
            _factory = new GatewayFactory(settings, services);
            Http = new HttpClient { BaseAddress = _factory.StartOnKestrel() };
        }

        public string Id { get; }

        public HttpClient Http { get; }

        public FakeTimeProvider Time => _factory.Time;

        public IServiceProvider Services => _factory.Services;

        public ClusterMembership Membership => Services.GetRequiredService<ClusterMembership>();

        public AlertService Alerts => Services.GetRequiredService<AlertService>();

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Http.Dispose();
            await _factory.DisposeAsync();
        }
    }
}
