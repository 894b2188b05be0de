using System.Net;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The live cut-off on <c>/v1/chat/completions</c> SSE: a stream is stopped at the chunk that crosses the session's
/// token budget, its upstream call is cancelled and the session trips with token_velocity.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class LiveCutOffSseTests(GatewayFixture gateway)
{
    private const long Budget = 10_000;

    [Fact]
    public async Task Stream_TwentyThousandTokens_CutAtTheBudgetUpstreamCancelledSessionTripped()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var cancelledBefore = (long)(await gateway.ModelStatsAsync("haiku"))["cancellations"]!;

        // "[[sim:tokens=20000]]" is 20 characters: 5 input tokens reserved, so 9,995 remain for the answer.
        using var response = await gateway.PostChatAsync(
            sessionId, Chat.Request("haiku", "[[sim:tokens=20000]]", stream: true, includeUsage: true), HttpCompletionOption.ResponseHeadersRead);
        var chunks = await ServerSentEvents.ReadChunksAsync(response);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var texts = chunks.Select(c => (string?)c.Delta()?["content"]).OfType<string>().ToList();
        var delivered = texts.Sum(GatewayTokens);
        const long remaining = Budget - 5;
        delivered.ShouldBeLessThanOrEqualTo(remaining);
        // The stream stopped at the first chunk that did not fit: the next word (at most 2 tokens) would have crossed.
        delivered.ShouldBeGreaterThan(remaining - 2);
        texts.Count.ShouldBeLessThan(20_000);

        var last = chunks[^2];
        last.FinishReasonOfChunk().ShouldBe("length");
        ((string?)last["gateway"]!["trip"]).ShouldBe("token_velocity");
        ((string?)last["gateway"]!["fallback"]).ShouldBe(GatewayFixture.Fallback);
        ((long)chunks[^1]["usage"]!["completion_tokens"]!).ShouldBeGreaterThan(delivered);

        ((long)(await gateway.ModelStatsAsync("haiku"))["cancellations"]!).ShouldBe(cancelledBefore + 1);
        var session = await gateway.GetSessionAsync(sessionId);
        ((string?)session["status"]).ShouldBe("tripped");
        ((string?)session["tripReason"]).ShouldBe("token_velocity");
        ((long)session["tokensInWindow"]!).ShouldBeGreaterThan(Budget);
    }

    [Fact]
    public async Task Streams_1000ConcurrentIntoOneSession_FiveAdmittedRunToTheirEnd_TheOthersRefusedWithLoopLimit()
    {
        // Each admitted answer needs three grants (600 tokens, 256 a grant), most of them after the sixth request has
        // tripped the session with the loop limit: that trip refuses new calls only, it must not cut these streams off.
        var sessionId = GatewayFixture.NewSessionId();
        var history = new[] { Chat.User("[[sim:tokens=600]] Keep going."), Chat.AssistantToolCall("call_1"), Chat.Tool("call_1", "more") };
        string whole;
        using (var alone = await gateway.PostChatAsync(
            GatewayFixture.NewSessionId(), Chat.Request("haiku", history.Select(n => n.DeepClone()), stream: true), HttpCompletionOption.ResponseHeadersRead))
        {
            whole = TextOf(await ServerSentEvents.ReadChunksAsync(alone));
        }

        var callsBefore = await gateway.ModelCallsAsync();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var streams = Enumerable.Range(0, 1_000).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            using var response = await gateway.PostChatAsync(
                sessionId, Chat.Request("haiku", history.Select(n => n.DeepClone()), stream: true), HttpCompletionOption.ResponseHeadersRead);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            return (Route: response.Header("X-Gateway-Route"), Trip: response.Header("X-Gateway-Trip"), Chunks: await ServerSentEvents.ReadChunksAsync(response));
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(streams);

        var admitted = results.Where(r => r.Route == "primary").ToList();
        admitted.Count.ShouldBe(5);
        foreach (var stream in admitted)
        {
            stream.Trip.ShouldBeNull();
            var end = stream.Chunks.Last(c => c.FinishReasonOfChunk() is not null);
            end.FinishReasonOfChunk().ShouldBe("stop");
            end["gateway"].ShouldBeNull();
            TextOf(stream.Chunks).ShouldBe(whole);
        }

        results.Where(r => r.Route != "primary").ShouldAllBe(r => r.Route == "deterministic" && r.Trip == "loop_limit");
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);
    }

    [Fact]
    public async Task Stream_AfterCutOff_NextRequestGetsFallbackWithTokenVelocity()
    {
        var sessionId = GatewayFixture.NewSessionId();
        using (var cut = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "[[sim:tokens=20000]]", stream: true), HttpCompletionOption.ResponseHeadersRead))
        {
            await ServerSentEvents.ReadChunksAsync(cut);
        }

        using var next = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "Say hello."));

        next.Header("X-Gateway-Trip").ShouldBe("token_velocity");
        (await next.Content.ReadAsStringAsync()).ShouldContain(GatewayFixture.Fallback);
    }

    [Fact]
    public async Task Stream_WithinBudget_NotCutAndWindowHoldsRealUsage()
    {
        var sessionId = GatewayFixture.NewSessionId();

        using var response = await gateway.PostChatAsync(
            sessionId, Chat.Request("haiku", "[[sim:tokens=3000]]", stream: true), HttpCompletionOption.ResponseHeadersRead);
        var chunks = await ServerSentEvents.ReadChunksAsync(response);

        chunks.Count(c => c.Delta()?["content"] is not null).ShouldBe(3_000);
        chunks[^1].FinishReasonOfChunk().ShouldBe("stop");
        chunks[^1].ContainsKey("gateway").ShouldBeFalse();
        // Grants were taken 256 at a time; the settlement returned what the real usage did not need (5 in + 3,000 out).
        ((long)(await gateway.GetSessionAsync(sessionId))["tokensInWindow"]!).ShouldBe(3_005);
    }

    /// <summary>The gateway's count for a chunk: a quarter of its characters rounded up, at least one.</summary>
    private static string TextOf(IEnumerable<System.Text.Json.Nodes.JsonObject> chunks) =>
        string.Concat(chunks.Select(c => (string?)c.Delta()?["content"]).OfType<string>());

    private static long GatewayTokens(string text) => Math.Max(1, (text.Length + 3) / 4);
}
