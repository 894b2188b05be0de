using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>The cache route: when no model can answer, a stored answer to the same conversation is served; tool calls are never stored.</summary>
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

        using (var cached = await PostAsync(Chat.Request("haiku", "What is the capital of Portugal?")))
        {
            cached.StatusCode.ShouldBe(HttpStatusCode.OK);
            cached.Header("X-Gateway-Route").ShouldBe("cache");
            cached.Header("X-Gateway-Upstream-Status").ShouldBe("503");
            var completion = await cached.ReadJsonAsync();
            ((string?)completion["model"]).ShouldBe("haiku");
            ((string?)completion.Message()["content"]).ShouldBe("This is a simulated answer from haiku.");
            ((string?)completion.Choice()["finish_reason"]).ShouldBe("stop");
        }

        using var unseen = await PostAsync(Chat.Request("haiku", "And of Spain?"));
        unseen.Header("X-Gateway-Route").ShouldBe("deterministic");
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

    private async Task BreakAllModelsAsync()
    {
        foreach (var model in new[] { "haiku", "sonnet" })
        {
            using var response = await _node.Http.PutAsJsonAsync($"/admin/models/{model}/faults", new { errorRate = 1.0, status = 503 });
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(JsonObject body, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
        => _node.PostChatAsync(body, completion);
}
