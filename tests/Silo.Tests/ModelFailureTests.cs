using System.Net;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// A failing model never shows the client a 5xx: the fallback model answers, and when every model fails the
/// answer is the deterministic fallback. (The shared node keeps its breakers closed and does not retry: see
/// <see cref="GatewayFixture"/>; breakers and retries have their own tests.)
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ModelFailureTests(GatewayFixture gateway)
{
    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task ChatCompletions_ModelFails_Returns200FallbackWithUpstreamStatus(int status)
    {
        var sessionId = GatewayFixture.NewSessionId();
        var before = await gateway.ModelStatsAsync("haiku");
        var sonnetBefore = await gateway.ModelStatsAsync("sonnet");

        using var response = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", $"Hello [[sim:error={status}]]"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Header("X-Gateway-Route").ShouldBe("deterministic");
        response.Header("X-Gateway-Upstream-Status").ShouldBe(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        response.Header("X-Gateway-Trip").ShouldBeNull();
        var completion = await response.ReadJsonAsync();
        ((string?)completion.Message()["content"]).ShouldBe(GatewayFixture.Fallback);
        ((string?)completion.Choice()["finish_reason"]).ShouldBe("stop");
        var after = await gateway.ModelStatsAsync("haiku");
        ((long)after["calls"]!).ShouldBe((long)before["calls"]! + 1);
        ((long)after["failures"]!).ShouldBe((long)before["failures"]! + 1);
        var sonnetAfter = await gateway.ModelStatsAsync("sonnet");
        ((long)sonnetAfter["failures"]!).ShouldBe((long)sonnetBefore["failures"]! + 1);

        // The failed call was made, so it counts against the task.
        var session = await gateway.GetSessionAsync(sessionId);
        ((string)session["status"]!).ShouldBe("active");
        ((long)session["modelCalls"]!).ShouldBe(1);
    }

    [Fact]
    public async Task ChatCompletionsStream_ModelFails_StreamsFallbackWithUpstreamStatus()
    {
        using var response = await gateway.PostChatAsync(
            GatewayFixture.NewSessionId(),
            Chat.Request("haiku", "Hello [[sim:error=502]]", stream: true, includeUsage: true),
            HttpCompletionOption.ResponseHeadersRead);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        response.Header("X-Gateway-Route").ShouldBe("deterministic");
        response.Header("X-Gateway-Upstream-Status").ShouldBe("502");
        var chunks = await ServerSentEvents.ReadChunksAsync(response);
        chunks.Count.ShouldBe(3);
        ((string?)chunks[0].Delta()!["content"]).ShouldBe(GatewayFixture.Fallback);
        chunks[1].FinishReasonOfChunk().ShouldBe("stop");
        ((long)chunks[2]["usage"]!["total_tokens"]!).ShouldBe(0);
    }

    [Fact]
    public async Task ChatCompletions_ErrorDirectiveForOtherModel_AnsweredNormally()
    {
        var before = await gateway.ModelStatsAsync("haiku");

        using var response = await gateway.PostChatAsync(GatewayFixture.NewSessionId(), Chat.Request("haiku", "Hello [[sim:error=500@sonnet]]"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Header("X-Gateway-Route").ShouldBe("primary");
        response.Header("X-Gateway-Upstream-Status").ShouldBeNull();
        ((string?)(await response.ReadJsonAsync()).Message()["content"]).ShouldBe(Chat.DefaultAnswer);
        ((long)(await gateway.ModelStatsAsync("haiku"))["failures"]!).ShouldBe((long)before["failures"]!);
    }

    [Theory]
    [InlineData("sonnet", "haiku")]
    [InlineData("haiku", "sonnet")]
    public async Task ChatCompletions_RequestedModelFails_AnsweredByItsFallbackModel(string requested, string alternate)
    {
        using var response = await gateway.PostChatAsync(GatewayFixture.NewSessionId(), Chat.Request(requested, $"Hello [[sim:error=500@{requested}]]"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Header("X-Gateway-Route").ShouldBe("fallback:" + alternate);
        response.Header("X-Gateway-Upstream-Status").ShouldBeNull();
        var completion = await response.ReadJsonAsync();
        ((string?)completion["model"]).ShouldBe(alternate);
        ((string?)completion.Message()["content"]).ShouldBe($"This is a simulated answer from {alternate}.");
    }

    [Fact]
    public async Task ChatCompletionsStream_RequestedModelFails_StreamedByFallbackModel()
    {
        using var response = await gateway.PostChatAsync(
            GatewayFixture.NewSessionId(),
            Chat.Request("haiku", "Hello [[sim:error=503@haiku]]", stream: true),
            HttpCompletionOption.ResponseHeadersRead);

        response.Header("X-Gateway-Route").ShouldBe("fallback:sonnet");
        var chunks = await ServerSentEvents.ReadChunksAsync(response);
        string.Concat(chunks.Select(c => (string?)c.Delta()?["content"])).ShouldBe("This is a simulated answer from sonnet.");
        chunks.ShouldAllBe(c => (string?)c["model"] == "sonnet");
    }
}
