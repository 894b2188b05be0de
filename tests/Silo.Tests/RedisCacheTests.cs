using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using AgentGateway.Redis;
using AgentGateway.Silo.Tests.Infrastructure;
using AgentGateway.TestSupport.Servers;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The answer cache in a real Redis shared by two nodes: a stored answer is served before any model call on either
/// node; only complete answers of the requested model are stored; with Redis gone the nodes still answer.
/// </summary>
public sealed class RedisCacheTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private OwnNode _a = null!;
    private OwnNode _b = null!;

    public Task InitializeAsync()
    {
        var prefix = RedisServerFixture.NewPrefix();
        _a = new OwnNode(redis.NodeSettings(prefix));
        _b = new OwnNode(redis.NodeSettings(prefix));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AnswerStoredByOneNode_ServedByTheOtherWithoutModelCall()
    {
        var question = Chat.Request("haiku", [Chat.System("You are terse."), Chat.User("What is the capital of Portugal?")]);
        using (var first = await _a.PostChatAsync(question))
        {
            first.Header("X-Gateway-Route").ShouldBe("primary");
        }

        var calls = await ModelCallsAsync(_b);
        using (var cached = await _b.PostChatAsync(question))
        {
            cached.StatusCode.ShouldBe(HttpStatusCode.OK);
            cached.Header("X-Gateway-Route").ShouldBe("cache");
            var completion = await cached.ReadJsonAsync();
            ((string?)completion["model"]).ShouldBe("haiku");
            ((string?)completion.Message()["content"]).ShouldBe(Chat.DefaultAnswer);
            ((string?)completion.Choice()["finish_reason"]).ShouldBe("stop");

            // A hit costs no model tokens.
            ((long)completion["usage"]!["total_tokens"]!).ShouldBe(0);
        }

        (await ModelCallsAsync(_b)).ShouldBe(calls);

        // Another system prompt is another question.
        using var other = await _b.PostChatAsync(Chat.Request("haiku", [Chat.System("You are verbose."), Chat.User("What is the capital of Portugal?")]));
        other.Header("X-Gateway-Route").ShouldBe("primary");
        (await ModelCallsAsync(_b)).ShouldBe(calls + 1);

        (await ScrapeAsync(_b)).ShouldContain("gateway_cache_lookups_total{result=\"hit\"} 1");
    }

    [Fact]
    public async Task StreamedAnswer_StoredAndServedAsOneChunk()
    {
        using (var first = await _a.PostChatAsync(Chat.Request("haiku", "Name a manga.", stream: true), HttpCompletionOption.ResponseHeadersRead))
        {
            string.Concat((await ServerSentEvents.ReadChunksAsync(first)).Select(c => (string?)c.Delta()?["content"])).ShouldBe(Chat.DefaultAnswer);
        }

        var calls = await ModelCallsAsync(_b);
        using var cached = await _b.PostChatAsync(Chat.Request("haiku", "Name a manga.", stream: true), HttpCompletionOption.ResponseHeadersRead);
        cached.Header("X-Gateway-Route").ShouldBe("cache");
        var chunks = await ServerSentEvents.ReadChunksAsync(cached);
        ((string?)chunks[0].Delta()!["content"]).ShouldBe(Chat.DefaultAnswer);
        (await ModelCallsAsync(_b)).ShouldBe(calls);
    }

    [Fact]
    public async Task ToolCallAnswer_NeverCached()
    {
        var request = Chat.Request("haiku", [Chat.User("Look it up [[sim:loop]]")], tools: true);
        using (var first = await _a.PostChatAsync(request.DeepClone().AsObject()))
        {
            ((string?)(await first.ReadJsonAsync()).Choice()["finish_reason"]).ShouldBe("tool_calls");
        }

        var calls = await ModelCallsAsync(_b);
        using var again = await _b.PostChatAsync(request);
        again.Header("X-Gateway-Route").ShouldBe("primary");
        ((string?)(await again.ReadJsonAsync()).Choice()["finish_reason"]).ShouldBe("tool_calls");
        (await ModelCallsAsync(_b)).ShouldBe(calls + 1);
    }

    [Fact]
    public async Task FallbackAnswers_NeverCached()
    {
        // Haiku down: sonnet answers for it (an alternate model's answer is a fallback, not stored).
        await SetFaultsAsync(_a, "haiku", broken: true);
        using (var alternate = await _a.PostChatAsync(Chat.Request("haiku", "Which route?")))
        {
            alternate.Header("X-Gateway-Route").ShouldBe("fallback:sonnet");
        }

        // Everything down: the deterministic text (never stored either).
        await SetFaultsAsync(_a, "sonnet", broken: true);
        using (var deterministic = await _a.PostChatAsync(Chat.Request("haiku", "Which model?")))
        {
            deterministic.Header("X-Gateway-Route").ShouldBe("deterministic");
        }

        using (var again = await _b.PostChatAsync(Chat.Request("haiku", "Which route?")))
        {
            again.Header("X-Gateway-Route").ShouldBe("primary");
        }

        using var model = await _b.PostChatAsync(Chat.Request("haiku", "Which model?"));
        model.Header("X-Gateway-Route").ShouldBe("primary");
        ((string?)(await model.ReadJsonAsync()).Message()["content"]).ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task CutOffStream_NeverCached()
    {
        // A session that trips mid-stream (a 5,000-token answer over a 1,000-token budget) ends with finish "length".
        await using var node = new OwnNode(redis.NodeSettings(RedisServerFixture.NewPrefix(), new Dictionary<string, string>
        {
            ["Governance:TokenBudget"] = "1000",
        }));
        var request = Chat.Request("haiku", "Write a lot [[sim:tokens=5000]]", stream: true);
        using (var first = await node.PostChatAsync(request.DeepClone().AsObject(), HttpCompletionOption.ResponseHeadersRead))
        {
            var chunks = await ServerSentEvents.ReadChunksAsync(first);
            chunks.Select(c => c.FinishReasonOfChunk()).ShouldContain("length");
        }

        using var again = await node.PostChatAsync(request, HttpCompletionOption.ResponseHeadersRead);
        again.Header("X-Gateway-Route").ShouldBe("primary");
    }

    [Fact]
    public async Task RedisKilled_NodesStillAnswerQuicklyCacheMissesLimitsFailOpen()
    {
        await using var server = await RedisServer.StartAsync();
        var settings = redis.NodeSettings(RedisServerFixture.NewPrefix(), new Dictionary<string, string>
        {
            ["Redis:Configuration"] = server.Configuration,
            ["Redis:OperationTimeout"] = "00:00:00.250",
            ["Gateway:Limits:RequestsPerMinute"] = "2",
        });
        await using var node = new OwnNode(settings);
        (await node.Services.GetRequiredService<RedisConnection>().WhenConnectedAsync(CancellationToken.None)).ShouldBeTrue();
        using (var first = await node.PostChatAsync(Chat.Request("haiku", "Before the outage.")))
        {
            first.Header("X-Gateway-Route").ShouldBe("primary");
        }

        using (var hit = await node.PostChatAsync(Chat.Request("haiku", "Before the outage.")))
        {
            hit.Header("X-Gateway-Route").ShouldBe("cache");
        }

        // Both requests of the minute are used: with Redis up, the next one would be refused.
        using (var refused = await node.PostChatAsync(Chat.Request("haiku", "Before the outage.")))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        }

        await server.KillAsync();
        var elapsed = Stopwatch.StartNew();
        foreach (var text in new[] { "Before the outage.", "During the outage.", "During the outage." })
        {
            using var response = await node.PostChatAsync(Chat.Request("haiku", text));
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            response.Header("X-Gateway-Route").ShouldBe("primary");
            ((string?)(await response.ReadJsonAsync()).Message()["content"]).ShouldBe(Chat.DefaultAnswer);
        }

        // Cache misses and the limits fail open; each Redis operation is bounded by the 250 ms operation timeout and
        // most fail at once (the connection is gone).
        elapsed.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        var metrics = await ScrapeAsync(node);
        metrics.ShouldContain("gateway_redis_errors_total{operation=\"cache_get\"}");
        metrics.ShouldContain("gateway_redis_errors_total{operation=\"limit_acquire\"}");
    }

    private static async Task<long> ModelCallsAsync(OwnNode node)
    {
        var models = await node.Http.GetFromJsonAsync<JsonArray>("/admin/models");
        return models!.Sum(m => (long)m!["calls"]!);
    }

    private static async Task SetFaultsAsync(OwnNode node, string model, bool broken)
    {
        using var response = await node.Http.PutAsJsonAsync($"/admin/models/{model}/faults", new { errorRate = broken ? 1.0 : 0.0, status = 503 });
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static Task<string> ScrapeAsync(OwnNode node) => node.Http.GetStringAsync("/metrics");

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }
}
