using System.Net;
using System.Text;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>Every bad input gets its 4xx problem with a stable type, and the node goes on serving.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BadInputTests(GatewayFixture gateway)
{
    private const int OneMiB = 1024 * 1024;

    [Theory]
    [InlineData("""{"model":"haiku","messages":[{"role":"user","content":"hi"}""", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("""{"model":"haiku","messages":[{"role":"user","content":"hi"}],}""", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("null", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("[]", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("""{"model":"haiku","messages":"hi"}""", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("""{"model":5,"messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("""{"model":"haiku","stream":"yes","messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("""{"model":"haiku","messages":[{"role":"user","content":42}]}""", HttpStatusCode.BadRequest, "invalid-json")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.BadRequest, "missing-model")]
    [InlineData("""{"model":" ","messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.BadRequest, "missing-model")]
    [InlineData("""{"model":"haiku"}""", HttpStatusCode.BadRequest, "missing-messages")]
    [InlineData("""{"model":"haiku","messages":[]}""", HttpStatusCode.BadRequest, "missing-messages")]
    [InlineData("""{"model":"haiku","messages":null}""", HttpStatusCode.BadRequest, "missing-messages")]
    [InlineData("""{"model":"haiku","messages":[{"role":"wizard","content":"hi"}]}""", HttpStatusCode.BadRequest, "invalid-message")]
    [InlineData("""{"model":"haiku","messages":[{"content":"hi"}]}""", HttpStatusCode.BadRequest, "invalid-message")]
    [InlineData("""{"model":"haiku","messages":[null]}""", HttpStatusCode.BadRequest, "invalid-message")]
    [InlineData("""{"model":"haiku","messages":[{"role":"user"}]}""", HttpStatusCode.BadRequest, "invalid-message")]
    [InlineData("""{"model":"haiku","messages":[{"role":"user","content":"hi"},{"role":"tool","content":"42"}]}""", HttpStatusCode.BadRequest, "invalid-message")]
    [InlineData("""{"model":"haiku","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"lookup"}}]}]}""", HttpStatusCode.BadRequest, "invalid-message")]
    [InlineData("""{"model":"haiku","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{}}]}""", HttpStatusCode.BadRequest, "invalid-tool")]
    [InlineData("""{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}""", HttpStatusCode.NotFound, "unknown-model")]
    public async Task ChatCompletions_BadBody_ReturnsProblemAndNodeKeepsServing(string body, HttpStatusCode status, string code)
    {
        var sessionId = GatewayFixture.NewSessionId();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", sessionId);

        using var response = await gateway.Http.SendAsync(request);

        var problem = await response.ShouldBeProblemAsync(status, code);
        ((string?)problem["detail"]).ShouldNotBeNullOrWhiteSpace();
        await AssertNodeServesAsync(sessionId);
    }

    [Fact]
    public async Task ChatCompletions_TextPlainBody_Returns415()
    {
        using var response = await gateway.Http.PostAsync(
            "/v1/chat/completions",
            new StringContent("""{"model":"haiku","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "text/plain"));

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        await AssertNodeServesAsync(GatewayFixture.NewSessionId());
    }

    [Fact]
    public async Task ChatCompletions_NoContentType_Returns415()
    {
        var content = new ByteArrayContent("""{"model":"haiku","messages":[{"role":"user","content":"hi"}]}"""u8.ToArray());

        using var response = await gateway.Http.PostAsync("/v1/chat/completions", content);

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task ChatCompletions_BodyOverLimitWithContentLength_Returns413()
    {
        var content = new ByteArrayContent(OversizedBody());
        content.Headers.ContentType = new("application/json");

        using var response = await gateway.Http.PostAsync("/v1/chat/completions", content);

        response.Content.Headers.ContentLength.ShouldNotBeNull();
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        await AssertNodeServesAsync(GatewayFixture.NewSessionId());
    }

    [Fact]
    public async Task ChatCompletions_BodyOverLimitChunked_Returns413()
    {
        // A stream of unknown length goes out with Transfer-Encoding: chunked; the limit stops the read.
        var content = new StreamContent(new UnseekableStream(OversizedBody()));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };

        using var response = await gateway.Http.SendAsync(request);

        request.Headers.TransferEncodingChunked.ShouldBe(true);
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body-too-large");
        await AssertNodeServesAsync(GatewayFixture.NewSessionId());
    }

    [Fact]
    public async Task ChatCompletions_BodyJustUnderLimit_Answered()
    {
        var padding = new string('x', OneMiB - 200);
        var body = $$"""{"model":"haiku","messages":[{"role":"system","content":"{{padding}}"},{"role":"user","content":"hi"}]}""";
        Encoding.UTF8.GetByteCount(body).ShouldBeLessThan(OneMiB);

        using var response = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("GET", "/v1/nope", HttpStatusCode.NotFound, "not-found")]
    [InlineData("GET", "/v1/chat/completions", HttpStatusCode.MethodNotAllowed, "method-not-allowed")]
    [InlineData("DELETE", "/v1/models", HttpStatusCode.MethodNotAllowed, "method-not-allowed")]
    public async Task Routing_UnknownRouteOrMethod_ReturnsProblem(string method, string path, HttpStatusCode status, string code)
    {
        using var response = await gateway.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await response.ShouldBeProblemAsync(status, code);
        await AssertNodeServesAsync(GatewayFixture.NewSessionId());
    }

    [Theory]
    [InlineData("GET", "", HttpStatusCode.NotFound, "session-not-found")]
    [InlineData("POST", "/resume", HttpStatusCode.NotFound, "session-not-found")]
    public async Task AdminSessions_UnknownSession_Returns404SessionNotFound(string method, string suffix, HttpStatusCode status, string code)
    {
        var sessionId = GatewayFixture.NewSessionId();

        using var response = await gateway.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/admin/sessions/{sessionId}{suffix}"));

        var problem = await response.ShouldBeProblemAsync(status, code);
        ((string?)problem["detail"]).ShouldBe($"Session '{sessionId}' has never called a model through this gateway.");
    }

    [Fact]
    public async Task AdminSessions_InvalidSessionId_Returns400InvalidSessionId()
    {
        using var response = await gateway.Http.GetAsync("/admin/sessions/bad%20id!");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-session-id");
    }

    /// <summary>Valid JSON just over 1 MiB: a long user message.</summary>
    private static byte[] OversizedBody()
    {
        var body = Encoding.UTF8.GetBytes($$"""{"model":"haiku","messages":[{"role":"user","content":"{{new string('x', OneMiB)}}"}]}""");
        body.Length.ShouldBeGreaterThan(OneMiB);
        return body;
    }

    private async Task AssertNodeServesAsync(string sessionId)
    {
        using var response = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "Say hello."));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)(await response.ReadJsonAsync()).Message()["content"]).ShouldBe(Chat.DefaultAnswer);
    }

    /// <summary>A stream that cannot tell its length, so HttpClient must send it chunked.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
