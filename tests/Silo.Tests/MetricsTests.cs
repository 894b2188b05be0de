using System.Globalization;
using System.Net;
using AgentGateway.Silo.Tests.Auth;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

[Collection(GatewayCollection.Name)]
public sealed class MetricsTests(GatewayFixture gateway)
{
    private const string LoopTrips = "gateway_session_trips_total{reason=\"loop_limit\"}";
    private const string DeterministicAnswers = "gateway_requests_total{route=\"deterministic\"}";

    [Fact]
    public async Task Metrics_RunawaySessionTrips_CountersMoveByExactlyOneTrip()
    {
        var before = await ScrapeAsync();
        var session = GatewayFixture.NewSessionId();
        var request = Chat.Request("haiku", [Chat.User("stuck [[sim:loop]]"), Chat.AssistantToolCall("call_1"), Chat.Tool("call_1", "no luck")], tools: true);

        for (var i = 0; i < 7; i++)
        {
            using var response = await gateway.PostChatAsync(session, request.DeepClone());
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var after = await ScrapeAsync();
        (Value(after, LoopTrips) - Value(before, LoopTrips)).ShouldBe(1);
        (Value(after, DeterministicAnswers) - Value(before, DeterministicAnswers)).ShouldBe(2);
    }

    [Fact]
    public async Task Metrics_SocketCutOffAndOversizeClose_CountedByReasonAndCode()
    {
        const string velocityTrips = "gateway_session_trips_total{reason=\"token_velocity\"}";
        const string tooBig = "gateway_ws_closed_total{code=\"1009\"}";
        var before = await ScrapeAsync();

        await using (var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId()))
        {
            await socket.ReceiveAsync();
            await socket.SendUserMessageAsync("[[sim:tokens=20000]]");
            await socket.ReceiveUntilAsync("fallback");
            await socket.SendTextAsync(new string(' ', 70_000));
            (await socket.ReceiveCloseAsync()).ShouldBe(1009);
        }

        var after = await ScrapeAsync();
        (Value(after, velocityTrips) - Value(before, velocityTrips)).ShouldBe(1);
        (Value(after, tooBig) - Value(before, tooBig)).ShouldBe(1);
        after.ShouldContain("# TYPE gateway_ws_connections gauge");
    }

    [Fact]
    public async Task Metrics_ModelCalls_LatencyHistogramByModelWithCumulativeBuckets()
    {
        const string count = "gateway_model_latency_count{model=\"sonnet\",status=\"ok\"}";
        const string infinity = "gateway_model_latency_bucket{model=\"sonnet\",status=\"ok\",le=\"+Inf\"}";
        var before = await ScrapeAsync();

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.PostChatAsync(GatewayFixture.NewSessionId(), Chat.Request("sonnet", "Say hello."));
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var after = await ScrapeAsync();
        after.ShouldContain("# TYPE gateway_model_latency histogram");
        (Value(after, count) - Value(before, count)).ShouldBe(3);
        Value(after, infinity).ShouldBe(Value(after, count));

        // The shared node's clock stands still: every call took 0 s, so even the first bucket holds them all.
        const string first = "gateway_model_latency_bucket{model=\"sonnet\",status=\"ok\",le=\"0.005\"}";
        Value(after, first).ShouldBe(Value(after, count));
    }

    [Fact]
    public async Task Metrics_Get_PrometheusTextFormat()
    {
        using (var answered = await gateway.PostChatAsync(GatewayFixture.NewSessionId(), Chat.Request("haiku", "Say hello.")))
        {
            answered.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var response = await gateway.Http.GetAsync("/metrics");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldContain("# TYPE gateway_requests_total counter");
    }

    [Fact]
    public async Task Metrics_FreshNodeBesideACountingOne_PublicGetOnlyAndEmptyText()
    {
        await using var node = new OwnNode(new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:AdminApiKey"] = KeyedNode.AdminKey,
            ["Gateway:Tenants:acme:ApiKey"] = KeyedNode.AcmeKey,
        });
        using (var answered = await gateway.PostChatAsync(GatewayFixture.NewSessionId(), Chat.Request("haiku", "Say hello.")))
        {
            answered.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // No key needed (only /admin and /v1 are guarded); the shared node's counts, on a meter of the same name in
        // this process, are not this node's; and a node that measured nothing yet still says what it sends.
        using var response = await node.Http.GetAsync("/metrics");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        response.Content.Headers.ContentType.Parameters.ShouldContain(p => p.Name == "version" && p.Value == "0.0.4");
        (await response.Content.ReadAsStringAsync()).ShouldBeEmpty();

        using var posted = await node.Http.PostAsync("/metrics", content: null);
        posted.StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
    }

    private async Task<string> ScrapeAsync() => await gateway.Http.GetStringAsync("/metrics");

    private static long Value(string scrape, string series)
    {
        foreach (var line in scrape.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return long.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
