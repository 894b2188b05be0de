using System.Net;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

[Collection(GatewayCollection.Name)]
public sealed class SessionIdTests(GatewayFixture gateway)
{
    [Fact]
    public async Task ChatCompletions_NoSessionHeader_AnswersWithGeneratedSessionId()
    {
        using var first = await gateway.PostChatAsync(sessionId: null, Chat.Request("haiku", "Say hello."));
        using var second = await gateway.PostChatAsync(sessionId: null, Chat.Request("haiku", "Say hello."));

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var id = first.Header("X-Session-Id");
        id.ShouldNotBeNull();
        id.ShouldMatch("^sess_[0-9a-f]{32}$");
        second.Header("X-Session-Id").ShouldNotBe(id);

        // The generated id names the session that was governed.
        var session = await gateway.GetSessionAsync(id);
        ((long)session["modelCalls"]!).ShouldBe(1);
    }

    [Fact]
    public async Task ChatCompletions_SessionHeader_EchoedBack()
    {
        var sessionId = GatewayFixture.NewSessionId();

        using var response = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "Say hello."));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Header("X-Session-Id").ShouldBe(sessionId);
    }

    [Theory]
    [InlineData("bad id!")]
    [InlineData("a/b")]
    [InlineData(129)]
    [InlineData(200)]
    public async Task ChatCompletions_InvalidSessionId_Returns400InvalidSessionId(object sessionId)
    {
        var id = sessionId as string ?? new string('a', (int)sessionId);
        var callsBefore = await gateway.ModelCallsAsync();

        using var response = await gateway.PostChatAsync(id, Chat.Request("haiku", "Say hello."));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-session-id");
        response.Headers.Contains("X-Session-Id").ShouldBeFalse();
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore);
    }

    [Fact]
    public async Task ChatCompletions_SessionIdOfMaxLength_Accepted()
    {
        var id = Guid.NewGuid().ToString("N") + ".b_c:d-" + new string('z', 128 - 32 - 7);
        id.Length.ShouldBe(128);

        using var response = await gateway.PostChatAsync(id, Chat.Request("haiku", "Say hello."));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Header("X-Session-Id").ShouldBe(id);
    }
}
