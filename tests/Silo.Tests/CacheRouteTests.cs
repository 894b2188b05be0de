using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The cache route (in-process cache, the embedded default): a stored answer to the same conversation is served
/// before any model call, even with every model down; tool calls are never stored.
/// </summary>
public sealed class CacheRouteTests : IAsyncDisposable
{
    private readonly OwnNode _node = new(GatewayFixture.SharedSettings);

    [Fact]
    public async Task ChatCompletions_EveryModelDown_AnsweredFromCacheForASeenConversationOnly()
    {
        using (var first = await PostAsync(Chat.Request("haiku", "What is the capital of Portugal?")))
        {
            first.Header("X-Gateway-Route").ShouldBe("primary");
        }

        await BreakAllModelsAsync();
        var calls = await ModelCallsAsync();

        using (var cached = await PostAsync(Chat.Request("haiku", "What is the capital of Portugal?")))
        {
            cached.StatusCode.ShouldBe(HttpStatusCode.OK);
            cached.Header("X-Gateway-Route").ShouldBe("cache");

            // Looked up before the model call: no model was tried, so there is no upstream status.
            cached.Header("X-Gateway-Upstream-Status").ShouldBeNull();
            (await ModelCallsAsync()).ShouldBe(calls);
            var completion = await cached.ReadJsonAsync();
            ((string?)completion["model"]).ShouldBe("haiku");
            ((string?)completion.Message()["content"]).ShouldBe("This is a simulated answer from haiku.");
            ((string?)completion.Choice()["finish_reason"]).ShouldBe("stop");
        }

        using var unseen = await PostAsync(Chat.Request("haiku", "And of Spain?"));
        unseen.Header("X-Gateway-Route").ShouldBe("deterministic");
        unseen.Header("X-Gateway-Upstream-Status").ShouldBe("503");
        ((string?)(await unseen.ReadJsonAsync()).Message()["content"]).ShouldBe(GatewayFixture.Fallback);
    }

    [Fact]
    public async Task ChatCompletions_ToolCallAnswer_NeverCached()
    {
        var request = Chat.Request("haiku", [Chat.User("Look it up [[sim:loop]]")], tools: true);
        using (var first = await PostAsync(request.DeepClone().AsObject()))
        {
            ((string?)(await first.ReadJsonAsync()).Choice()["finish_reason"]).ShouldBe("tool_calls");
        }

        await BreakAllModelsAsync();

        using var after = await PostAsync(request);
        after.Header("X-Gateway-Route").ShouldBe("deterministic");
    }

    [Fact]
    public async Task ChatCompletionsStream_StreamedAnswerCached_ServedAsOneChunkWhenModelsDown()
    {
        using (var first = await PostAsync(Chat.Request("haiku", "Name a manga.", stream: true), HttpCompletionOption.ResponseHeadersRead))
        {
            string.Concat((await ServerSentEvents.ReadChunksAsync(first)).Select(c => (string?)c.Delta()?["content"])).ShouldBe("This is a simulated answer from haiku.");
        }

        await BreakAllModelsAsync();

        using var cached = await PostAsync(Chat.Request("haiku", "Name a manga.", stream: true), HttpCompletionOption.ResponseHeadersRead);
        cached.Header("X-Gateway-Route").ShouldBe("cache");
        var chunks = await ServerSentEvents.ReadChunksAsync(cached);
        ((string?)chunks[0].Delta()!["content"]).ShouldBe("This is a simulated answer from haiku.");
    }

    [Fact]
    public async Task ChatCompletions_AgentResendingTheSameConversation_CacheHitsStillCountLoopsAndTrip()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var routes = new List<string?>();
        var loops = new List<string?>();
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Chat.Request("haiku", "Are we there yet?")) };
            request.Headers.Add("X-Session-Id", sessionId);
            using var response = await _node.Http.SendAsync(request);
            routes.Add(response.Header("X-Gateway-Route"));
            loops.Add(response.Header("X-Gateway-Loop-Count"));
            if (i == 5)
            {
                response.Header("X-Gateway-Trip").ShouldBe("loop_limit");
            }
        }

        routes.ShouldBe(["primary", "cache", "cache", "cache", "cache", "deterministic"]);
        loops.ShouldBe(["1", "2", "3", "4", "5", "5"]);
    }

    [Fact]
    public async Task WebSocket_SeenConversation_AnsweredFromCacheWithoutModelCall()
    {
        await using (var first = await ChatSocket.ConnectAsync(_node.Http.BaseAddress!, GatewayFixture.NewSessionId()))
        {
            (await first.ReceiveAsync()).Type().ShouldBe("state");
            await first.SendUserMessageAsync("Name a manga.");
            var answered = await first.ReceiveUntilAsync("done");
            ((string?)answered[^1]["route"]).ShouldBe("primary");
        }

        var calls = await ModelCallsAsync();
        await using var second = await ChatSocket.ConnectAsync(_node.Http.BaseAddress!, GatewayFixture.NewSessionId());
        (await second.ReceiveAsync()).Type().ShouldBe("state");
        await second.SendUserMessageAsync("Name a manga.");
        var messages = await second.ReceiveUntilAsync("done");
        messages.Tokens().ShouldBe(Chat.DefaultAnswer);
        var done = messages[^1];
        ((string?)done["route"]).ShouldBe("cache");
        ((string?)done["finish_reason"]).ShouldBe("stop");
        (await ModelCallsAsync()).ShouldBe(calls);

        // The answer is part of the conversation: the next question goes to the model with it.
        await second.SendUserMessageAsync("Another one?");
        ((string?)(await second.ReceiveUntilAsync("done"))[^1]["route"]).ShouldBe("primary");
    }

    private async Task BreakAllModelsAsync()
    {
        foreach (var model in new[] { "haiku", "sonnet" })
        {
            using var response = await _node.Http.PutAsJsonAsync($"/admin/models/{model}/faults", new { errorRate = 1.0, status = 503 });
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    /// <summary>Calls both simulated models have received.</summary>
    private async Task<long> ModelCallsAsync()
    {
        var models = await _node.Http.GetFromJsonAsync<JsonArray>("/admin/models");
        return models!.Sum(m => (long)m!["calls"]!);
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(JsonObject body, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
        => _node.PostChatAsync(body, completion);
}
