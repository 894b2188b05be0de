using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.TestSupport;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// A gateway node of a test class's own (its own settings and fake clock) on Kestrel, for tests that change
/// node-wide state — breakers, faults, the answer cache — which the shared node must not see.
/// </summary>
public sealed class OwnNode : IAsyncDisposable
{
    private readonly GatewayFactory _factory;

    public OwnNode(IReadOnlyDictionary<string, string> settings)
    {
        _factory = new GatewayFactory(settings);
        Http = new HttpClient { BaseAddress = _factory.StartOnKestrel() };
    }

    public HttpClient Http { get; }

    public FakeTimeProvider Time => _factory.Time;

    /// <summary>The node's services, to watch what it does from the inside.</summary>
    public IServiceProvider Services => _factory.Services;

    /// <summary>POSTs a chat completion in a new session (so the loop limit never interferes).</summary>
    public Task<HttpResponseMessage> PostChatAsync(JsonObject body, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", GatewayFixture.NewSessionId());
        return Http.SendAsync(request, completion);
    }

    /// <summary>The session as GET /admin/sessions/{id} returns it (asserting 200).</summary>
    public async Task<JsonObject> GetSessionAsync(string sessionId)
    {
        using var response = await Http.GetAsync($"/admin/sessions/{sessionId}");
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _factory.DisposeAsync();
    }
}
