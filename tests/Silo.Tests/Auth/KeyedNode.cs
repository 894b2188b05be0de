using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests.Auth;

/// <summary>A node of its own with an admin key and two tenants (acme, globex), on Kestrel at 127.0.0.1.</summary>
public sealed class KeyedNode : IAsyncLifetime
{
    public const string AdminKey = "admin-key-0123456789abcdefghij";
    public const string AcmeKey = "acme-key-0123456789abcdefghijk";
    public const string GlobexKey = "globex-key-0123456789abcdefghi";

    private OwnNode? _node;

    public OwnNode Node => _node ?? throw new InvalidOperationException("Not started.");

    public Uri BaseAddress => Node.Http.BaseAddress!;

    public Task InitializeAsync()
    {
        var settings = new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Gateway:AdminApiKey"] = AdminKey,
            ["Gateway:Tenants:acme:ApiKey"] = AcmeKey,
            ["Gateway:Tenants:globex:ApiKey"] = GlobexKey,
        };
        _node = new OwnNode(settings);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    /// <summary>Sends a request with <c>Authorization: Bearer {key}</c> when a key is given.</summary>
    public Task<HttpResponseMessage> SendAsync(string method, string path, string? key, JsonNode? body = null, string? sessionId = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        if (sessionId is not null)
        {
            request.Headers.Add("X-Session-Id", sessionId);
        }

        return Node.Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> ChatAsync(string? key, string sessionId, string text = "Say hello.")
        => SendAsync("POST", "/v1/chat/completions", key, Chat.Request("haiku", text), sessionId);

    /// <summary>Opens the chat socket the way a browser can: the key offered as a subprotocol (none: no key).</summary>
    public async Task<ClientWebSocket> ConnectAsync(string sessionId, string? key, bool asHeader = false)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (key is not null && asHeader)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
        }
        else if (key is not null)
        {
            socket.Options.AddSubProtocol(Credentials.WebSocketProtocol);
            socket.Options.AddSubProtocol(Credentials.ToWebSocketProtocol(key));
        }

        var uri = new UriBuilder(BaseAddress) { Scheme = "ws", Path = $"/v1/sessions/{sessionId}/ws" }.Uri;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(uri, guard.Token);
        }
        catch (WebSocketException)
        {
            // Refused before the upgrade: the status and headers are on the socket.
        }

        return socket;
    }
}
