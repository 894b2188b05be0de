using System.Net;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary><c>stream: true</c> read as it arrives by a plain HttpClient: OpenAI's SSE chunks and <c>[DONE]</c>.</summary>
[Collection(GatewayCollection.Name)]
public sealed class StreamingTests(GatewayFixture gateway)
{
    [Fact]
    public async Task ChatCompletionsStream_PlainQuestion_ChunksConcatenateToAnswerThenDone()
    {
        using var response = await gateway.PostChatAsync(
            GatewayFixture.NewSessionId(), Chat.Request("haiku", "Say hello.", stream: true), HttpCompletionOption.ResponseHeadersRead);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        response.Header("X-Gateway-Route").ShouldBe("primary");
        var chunks = await ServerSentEvents.ReadChunksAsync(response);

        // Seven words, one chunk each, then the finish chunk; no usage chunk unless asked for.
        chunks.Count.ShouldBe(8);
        chunks.ShouldAllBe(c => (string?)c["model"] == "haiku" && (long)c["created"]! == gateway.CreatedNow);
        ((string?)chunks[0].Delta()!["role"]).ShouldBe("assistant");
        chunks.Skip(1).ShouldAllBe(c => !c.Delta()!.ContainsKey("role"));
        string.Concat(chunks.Select(c => (string?)c.Delta()!["content"])).ShouldBe(Chat.DefaultAnswer);
        chunks.Take(7).ShouldAllBe(c => c.FinishReasonOfChunk() == null);
        chunks[^1].FinishReasonOfChunk().ShouldBe("stop");
        chunks[^1].Delta()!.ContainsKey("content").ShouldBeFalse();
        chunks.ShouldAllBe(c => !c.ContainsKey("usage"));
    }

    [Fact]
    public async Task ChatCompletionsStream_IncludeUsage_UsageChunkBeforeDone()
    {
        using var response = await gateway.PostChatAsync(
            GatewayFixture.NewSessionId(),
            Chat.Request("haiku", "Say hello.", stream: true, includeUsage: true),
            HttpCompletionOption.ResponseHeadersRead);

        var chunks = await ServerSentEvents.ReadChunksAsync(response);

        chunks.Count.ShouldBe(9);
        chunks[^2].FinishReasonOfChunk().ShouldBe("stop");
        var usage = chunks[^1];
        usage["choices"]!.AsArray().ShouldBeEmpty();
        // "Say hello." is 10 characters: 3 input tokens; seven words out.
        ((long)usage["usage"]!["prompt_tokens"]!).ShouldBe(3);
        ((long)usage["usage"]!["completion_tokens"]!).ShouldBe(7);
        ((long)usage["usage"]!["total_tokens"]!).ShouldBe(10);
    }

    [Fact]
    public async Task ChatCompletionsStream_TokensDirective_Yields50Tokens()
    {
        var sessionId = GatewayFixture.NewSessionId();
        using var response = await gateway.PostChatAsync(
            sessionId, Chat.Request("haiku", "[[sim:tokens=50]]", stream: true, includeUsage: true), HttpCompletionOption.ResponseHeadersRead);

        var chunks = await ServerSentEvents.ReadChunksAsync(response);

        var text = string.Concat(chunks.Select(c => (string?)c.Delta()?["content"]));
        text.Split(' ').Length.ShouldBe(50);
        text.ShouldStartWith("the agent gateway keeps every session inside its budget");
        chunks.Count(c => c.Delta()?["content"] is not null).ShouldBe(50);
        ((long)chunks[^1]["usage"]!["completion_tokens"]!).ShouldBe(50);
        // "[[sim:tokens=50]]" is 17 characters: 5 input tokens.
        ((long)chunks[^1]["usage"]!["prompt_tokens"]!).ShouldBe(5);

        // The settlement was told before the stream ended, so the admin read that follows sees it.
        var session = await gateway.GetSessionAsync(sessionId);
        ((long)session["tokensInWindow"]!).ShouldBe(55);
    }

    [Fact]
    public async Task ChatCompletionsStream_TrippedSession_FallbackChunkThenDone()
    {
        var agent = new ScriptedAgent(gateway, GatewayFixture.NewSessionId());
        await agent.RunUntilTrippedAsync("[[sim:loop]] Keep looking.");
        var body = Chat.Request("haiku", agent.History, tools: true, stream: true);
        var callsBefore = await gateway.ModelCallsAsync();

        using var response = await gateway.PostChatAsync(agent.SessionId, body, HttpCompletionOption.ResponseHeadersRead);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        response.Header("X-Gateway-Trip").ShouldBe("loop_limit");
        response.Header("X-Gateway-Route").ShouldBe("deterministic");
        var chunks = await ServerSentEvents.ReadChunksAsync(response);
        chunks.Count.ShouldBe(2);
        ((string?)chunks[0].Delta()!["role"]).ShouldBe("assistant");
        ((string?)chunks[0].Delta()!["content"]).ShouldBe(GatewayFixture.Fallback);
        chunks[0].Delta()!.ContainsKey("tool_calls").ShouldBeFalse();
        chunks[0].FinishReasonOfChunk().ShouldBeNull();
        chunks[1].Delta()!.ContainsKey("content").ShouldBeFalse();
        chunks[1].FinishReasonOfChunk().ShouldBe("stop");
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore);
    }

    [Fact]
    public async Task ChatCompletionsStream_LoopDirective_StreamsToolCall()
    {
        using var response = await gateway.PostChatAsync(
            GatewayFixture.NewSessionId(),
            Chat.Request("haiku", [Chat.User("[[sim:loop]] Look it up.")], tools: true, stream: true),
            HttpCompletionOption.ResponseHeadersRead);

        var chunks = await ServerSentEvents.ReadChunksAsync(response);

        chunks.Count.ShouldBe(2);
        var call = chunks[0].Delta()!["tool_calls"]!.AsArray().ShouldHaveSingleItem()!;
        ((int)call["index"]!).ShouldBe(0);
        ((string)call["function"]!["name"]!).ShouldBe("lookup");
        JsonNode.Parse((string)call["function"]!["arguments"]!)!["query"].ShouldNotBeNull();
        chunks[1].FinishReasonOfChunk().ShouldBe("tool_calls");
    }
}
