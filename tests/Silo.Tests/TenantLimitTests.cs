using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Auth;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// Tenant RPM and TPM limits: in process on the embedded default, in Redis across nodes. Over the limit: 429
/// <c>rate-limited</c> with <c>Retry-After</c> (exact on the nodes' fake clocks), and nothing counted by governance.
/// </summary>
public sealed class TenantLimitTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task EmbeddedDefault_OverTheRequestLimit_429WithExactRetryAfter()
    {
        await using var node = new OwnNode(new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:Limits:RequestsPerMinute"] = "2",
        });
        for (var i = 0; i < 2; i++)
        {
            using var ok = await node.PostChatAsync(Chat.Request("haiku", "Say hello."));
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var calls = await ModelCallsAsync(node);
        using (var refused = await node.PostChatAsync(Chat.Request("haiku", "Say hello.")))
        {
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
            refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(30));
            ((long)problem["retry_after"]!).ShouldBe(30);
            ((string?)problem["limit"]).ShouldBe("requests");
            ((string?)problem["detail"]).ShouldBe("Tenant 'local' is over its requests-per-minute limit; retry after 30 s.");
        }

        (await ModelCallsAsync(node)).ShouldBe(calls);

        // One request refills every 30 s.
        node.Time.Advance(TimeSpan.FromSeconds(29));
        using (var early = await node.PostChatAsync(Chat.Request("haiku", "Say hello.")))
        {
            early.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
            early.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        }

        node.Time.Advance(TimeSpan.FromSeconds(1));
        using var again = await node.PostChatAsync(Chat.Request("haiku", "Say hello."));
        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await node.Http.GetStringAsync("/metrics")).ShouldContain("gateway_ratelimit_rejected_total{limit=\"requests\",tenant=\"local\"} 2");
    }

    [Fact]
    public async Task EmbeddedDefault_OverTheTokenLimit_InputChargedAtAdmissionOutputAfter()
    {
        await using var node = new OwnNode(new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:Limits:TokensPerMinute"] = "20",
            ["Cache:Enabled"] = "false",
        });

        // "Say hello." is 3 input tokens, and the answer 7 output tokens: 10 a request, 20 a minute.
        for (var i = 0; i < 2; i++)
        {
            using var ok = await node.PostChatAsync(Chat.Request("haiku", "Say hello."));
            ok.StatusCode.ShouldBe(HttpStatusCode.OK);
            ((long)(await ok.ReadJsonAsync())["usage"]!["total_tokens"]!).ShouldBe(10);
        }

        // The bucket is empty: 3 tokens refill in 9 s at 20 a minute.
        using var refused = await node.PostChatAsync(Chat.Request("haiku", "Say hello."));
        var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited");
        refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(9));
        ((string?)problem["limit"]).ShouldBe("tokens");
    }

    [Fact]
    public async Task EmbeddedDefault_CacheHitCostsNoTokens()
    {
        await using var node = new OwnNode(new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:Limits:TokensPerMinute"] = "13",
        });
        using (var model = await node.PostChatAsync(Chat.Request("haiku", "Say hello.")))
        {
            model.Header("X-Gateway-Route").ShouldBe("primary");
        }

        // 3 tokens left: each hit is charged its 3 input tokens at admission and given them back.
        for (var i = 0; i < 5; i++)
        {
            using var hit = await node.PostChatAsync(Chat.Request("haiku", "Say hello."));
            hit.StatusCode.ShouldBe(HttpStatusCode.OK);
            hit.Header("X-Gateway-Route").ShouldBe("cache");
        }
    }

    [Fact]
    public async Task Tenants_OwnLimitsOrTheDefault()
    {
        await using var node = new OwnNode(new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:Tenants:acme:ApiKey"] = KeyedNode.AcmeKey,
            ["Gateway:Tenants:acme:RequestsPerMinute"] = "1",
            ["Gateway:Tenants:globex:ApiKey"] = KeyedNode.GlobexKey,
            ["Gateway:Tenants:globex:RequestsPerMinute"] = "0",
            ["Gateway:Limits:RequestsPerMinute"] = "3",
        });
        (await ChatAsync(node, KeyedNode.AcmeKey)).ShouldBe(HttpStatusCode.OK);
        (await ChatAsync(node, KeyedNode.AcmeKey)).ShouldBe(HttpStatusCode.TooManyRequests);

        // globex: 0 is unlimited, whatever the default.
        for (var i = 0; i < 5; i++)
        {
            (await ChatAsync(node, KeyedNode.GlobexKey)).ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task TwoNodesSharingRedis_ExactlyTheLimitAdmittedAcrossBoth()
    {
        const int limit = 7;
        var prefix = RedisServerFixture.NewPrefix();
        var more = new Dictionary<string, string> { ["Gateway:Limits:RequestsPerMinute"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var a = new OwnNode(redis.NodeSettings(prefix, more));
        await using var b = new OwnNode(redis.NodeSettings(prefix, more));

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? a : b).PostChatAsync(Chat.Request("haiku", $"Question {i}."));
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta);
        }));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(limit);
        responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests).ShouldBe(40 - limit);

        // Both clocks stand at the same instant: the next request refills in 60/7 s, rounded up.
        responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ShouldAllBe(r => r.RetryAfter == TimeSpan.FromSeconds(9));

        // Time moves on both nodes: 60/7 s later one more request, on whichever node.
        a.Time.Advance(TimeSpan.FromMilliseconds(8_572));
        b.Time.Advance(TimeSpan.FromMilliseconds(8_572));
        using (var one = await b.PostChatAsync(Chat.Request("haiku", "One more.")))
        {
            one.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using var none = await a.PostChatAsync(Chat.Request("haiku", "And another."));
        none.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task WebSocket_UserMessageOverTheLimit_ErrorFrameAndTheSocketStaysUsable()
    {
        await using var node = new OwnNode(new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:Limits:RequestsPerMinute"] = "1",
        });
        await using var socket = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, GatewayFixture.NewSessionId());
        (await socket.ReceiveAsync()).Type().ShouldBe("state");

        await socket.SendUserMessageAsync("Say hello.");
        (await socket.ReceiveUntilAsync("done")).Tokens().ShouldBe(Chat.DefaultAnswer);

        await socket.SendUserMessageAsync("Say hello again.");
        var error = await socket.ReceiveAsync();
        error.Type().ShouldBe("error");
        ((string?)error["code"]).ShouldBe("rate-limited");
        ((string?)error["limit"]).ShouldBe("requests");
        ((long)error["retry_after"]!).ShouldBe(60);

        await socket.SendAsync(new JsonObject { ["type"] = "ping", ["id"] = "p-1" });
        (await socket.ReceiveAsync()).Type().ShouldBe("pong");

        node.Time.Advance(TimeSpan.FromSeconds(60));
        await socket.SendUserMessageAsync("Say hello again.");
        var messages = await socket.ReceiveUntilAsync("done");
        messages[0].Type().ShouldBe("user_message");
        messages.Tokens().ShouldBe(Chat.DefaultAnswer);
    }

    private static async Task<HttpStatusCode> ChatAsync(OwnNode node, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat.Request("haiku", "Say hello.")) };
        request.Headers.Authorization = new("Bearer", key);
        request.Headers.Add("X-Session-Id", GatewayFixture.NewSessionId());
        using var response = await node.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<long> ModelCallsAsync(OwnNode node)
    {
        var models = await node.Http.GetFromJsonAsync<JsonArray>("/admin/models");
        return models!.Sum(m => (long)m!["calls"]!);
    }
}
