using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests.Auth;

/// <summary>
/// Who may call what on a node with an admin key and two tenants: every refusal is problem details with its stable
/// type (401s with <c>WWW-Authenticate: Bearer</c>), and a tenant can drive only its own sessions.
/// </summary>
public sealed class AuthMatrixTests(KeyedNode node) : IClassFixture<KeyedNode>
{
    private const string Wrong = "wrong-key-0123456789abcdefghij";

    [Theory]
    [InlineData("GET", "/admin/sessions", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("GET", "/admin/sessions", Wrong, HttpStatusCode.Unauthorized, "invalid-api-key")]
    [InlineData("GET", "/admin/sessions", KeyedNode.AcmeKey, HttpStatusCode.Forbidden, "admin-forbidden")]
    [InlineData("GET", "/admin/sessions/some-session", KeyedNode.GlobexKey, HttpStatusCode.Forbidden, "admin-forbidden")]
    [InlineData("POST", "/admin/sessions/some-session/resume", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("POST", "/admin/sessions/some-session/end", KeyedNode.AcmeKey, HttpStatusCode.Forbidden, "admin-forbidden")]
    [InlineData("GET", "/admin/models", Wrong, HttpStatusCode.Unauthorized, "invalid-api-key")]
    [InlineData("GET", "/admin/breakers", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("GET", "/admin/node", KeyedNode.AcmeKey, HttpStatusCode.Forbidden, "admin-forbidden")]
    [InlineData("GET", "/admin/no-such-route", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("GET", "/v1/models", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("GET", "/v1/models", Wrong, HttpStatusCode.Unauthorized, "invalid-api-key")]
    [InlineData("GET", "/v1/models", KeyedNode.AdminKey, HttpStatusCode.Forbidden, "api-forbidden")]
    [InlineData("POST", "/v1/chat/completions", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("POST", "/v1/chat/completions", Wrong, HttpStatusCode.Unauthorized, "invalid-api-key")]
    [InlineData("POST", "/v1/chat/completions", KeyedNode.AdminKey, HttpStatusCode.Forbidden, "api-forbidden")]
    [InlineData("GET", "/v1/sessions/some-session/ws", null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("GET", "/v1/sessions/some-session/ws", KeyedNode.AdminKey, HttpStatusCode.Forbidden, "api-forbidden")]
    public async Task Request_KeyNotValidHere_RefusedAsProblemDetails(string method, string path, string? key, HttpStatusCode status, string code)
    {
        using var response = await node.SendAsync(method, path, key, method == "POST" ? Chat.Request("haiku", "Say hello.") : null);

        var problem = await response.ShouldBeProblemAsync(status, code);
        ((string?)problem["detail"]).ShouldNotBeNullOrWhiteSpace();
        problem.ToJsonString().ShouldNotContain(KeyedNode.AdminKey);
        if (status == HttpStatusCode.Unauthorized)
        {
            response.Headers.WwwAuthenticate.ToString().ShouldBe(
                key is null ? "Bearer realm=\"agent-gateway\"" : "Bearer realm=\"agent-gateway\", error=\"invalid_token\"");
        }
        else
        {
            response.Headers.WwwAuthenticate.ShouldBeEmpty();
        }
    }

    [Fact]
    public async Task Admin_AdminKey_Served()
    {
        using var models = await node.SendAsync("GET", "/admin/models", KeyedNode.AdminKey);
        using var sessions = await node.SendAsync("GET", "/admin/sessions", KeyedNode.AdminKey);

        models.StatusCode.ShouldBe(HttpStatusCode.OK);
        sessions.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Admin_LoopbackCallerWithoutKeyWhenAdminKeyConfigured_Unauthorized()
    {
        // Loopback is no longer enough once a key is configured: the request below comes from 127.0.0.1.
        using var response = await node.Node.Http.GetAsync("/admin/models");

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task V1_TenantKey_ServedAndTheSessionIsOwnedByTheTenant()
    {
        var sessionId = GatewayFixture.NewSessionId();

        using var models = await node.SendAsync("GET", "/v1/models", KeyedNode.AcmeKey);
        using var chat = await node.ChatAsync(KeyedNode.AcmeKey, sessionId);
        using var lowerCaseScheme = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        lowerCaseScheme.Headers.TryAddWithoutValidation("Authorization", "bearer " + KeyedNode.AcmeKey);
        using var lower = await node.Node.Http.SendAsync(lowerCaseScheme);

        models.StatusCode.ShouldBe(HttpStatusCode.OK);
        chat.StatusCode.ShouldBe(HttpStatusCode.OK);
        lower.StatusCode.ShouldBe(HttpStatusCode.OK);
        var session = await AdminSessionAsync(sessionId);
        ((string?)session["tenant"]).ShouldBe("acme");
    }

    [Fact]
    public async Task ChatCompletions_TenantOnAnotherTenantsSession_403SessionForbiddenAndNothingCounted()
    {
        var sessionId = GatewayFixture.NewSessionId();
        using var first = await node.ChatAsync(KeyedNode.AcmeKey, sessionId);

        using var other = await node.ChatAsync(KeyedNode.GlobexKey, sessionId);

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var problem = await other.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "session-forbidden");
        ((string?)problem["detail"]).ShouldBe($"Session '{sessionId}' belongs to another tenant; use a session id of your own.");
        other.Headers.Contains("X-Gateway-Loop-Count").ShouldBeFalse();
        var session = await AdminSessionAsync(sessionId);
        ((long)session["modelCalls"]!).ShouldBe(1);
        ((string?)session["tenant"]).ShouldBe("acme");
    }

    [Fact]
    public async Task WebSocket_KeyAsSubprotocol_ConnectsWithAgentGatewayProtocolAndChatsAsTheTenant()
    {
        var sessionId = GatewayFixture.NewSessionId();

        using var socket = await node.ConnectAsync(sessionId, KeyedNode.AcmeKey);

        socket.State.ShouldBe(WebSocketState.Open);
        socket.SubProtocol.ShouldBe("agent-gateway");
        (await ReceiveAsync(socket))["type"]!.GetValue<string>().ShouldBe("state");
        await SendAsync(socket, new JsonObject { ["type"] = "user_message", ["text"] = "Say hello." });
        JsonObject message;
        do
        {
            message = await ReceiveAsync(socket);
        }
        while ((string?)message["type"] != "done");

        var session = await AdminSessionAsync(sessionId);
        ((string?)session["tenant"]).ShouldBe("acme");
        ((long)session["modelCalls"]!).ShouldBe(1);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public async Task WebSocket_KeyAsAuthorizationHeader_Connects()
    {
        using var socket = await node.ConnectAsync(GatewayFixture.NewSessionId(), KeyedNode.GlobexKey, asHeader: true);

        socket.State.ShouldBe(WebSocketState.Open);
        socket.SubProtocol.ShouldBeNull();
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public async Task WebSocket_NoKeyOrWrongKeyOrOtherTenantsSession_RefusedBeforeTheUpgrade()
    {
        var sessionId = GatewayFixture.NewSessionId();
        using var owner = await node.ChatAsync(KeyedNode.AcmeKey, sessionId);

        using var none = await node.ConnectAsync(sessionId, key: null);
        using var wrong = await node.ConnectAsync(sessionId, Wrong);
        using var other = await node.ConnectAsync(sessionId, KeyedNode.GlobexKey);

        none.HttpStatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        wrong.HttpStatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        other.HttpStatusCode.ShouldBe(HttpStatusCode.Forbidden);
        other.State.ShouldNotBe(WebSocketState.Open);
    }

    [Fact]
    public async Task ChatCompletions_TwoTenantsRacingForOneNewSessionId_ExactlyOneOwnsIt()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var calls = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var key = i % 2 == 0 ? KeyedNode.AcmeKey : KeyedNode.GlobexKey;
            using var response = await node.ChatAsync(key, sessionId);
            return (Tenant: i % 2 == 0 ? "acme" : "globex", response.StatusCode);
        })).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(calls);

        var owner = (string)(await AdminSessionAsync(sessionId))["tenant"]!;
        results.Where(r => r.Tenant == owner).ShouldAllBe(r => r.StatusCode == HttpStatusCode.OK);
        results.Where(r => r.Tenant != owner).ShouldAllBe(r => r.StatusCode == HttpStatusCode.Forbidden);
    }

    private async Task<JsonObject> AdminSessionAsync(string sessionId)
    {
        using var response = await node.SendAsync("GET", $"/admin/sessions/{sessionId}", KeyedNode.AdminKey);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task SendAsync(WebSocket socket, JsonObject message)
        => await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonObject> ReceiveAsync(WebSocket socket)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        using var text = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, guard.Token);
            text.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return JsonNode.Parse(text.ToArray())!.AsObject();
    }
}
