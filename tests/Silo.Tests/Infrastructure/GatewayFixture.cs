using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// One gateway node on Kestrel (127.0.0.1, a free port) shared by every end-to-end test, with a real
/// <see cref="HttpClient"/> pointed at it. Tests keep apart by using a fresh session id each.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string Fallback = "This task requires manual human-in-the-loop review.";

    private GatewayFactory? _factory;
    private HttpClient? _http;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The <c>created</c> stamp of completions answered now (the fixture's clock stands still).</summary>
    public long CreatedNow => (_factory ?? throw new InvalidOperationException("The fixture is not started.")).Time.GetUtcNow().ToUnixTimeSeconds();

    public HttpClient Http => _http ?? throw new InvalidOperationException("The fixture is not started.");

    public Task InitializeAsync()
    {
        _factory = new GatewayFactory(FixtureSettings);
        BaseAddress = _factory.StartOnKestrel();
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }

    /// <summary>
    /// The shared node's clock stands still and many tests make models fail on purpose: its breakers never open
    /// and it does not retry (a retry would wait on the frozen clock). Breakers and retries are tested on nodes
    /// of their own.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SharedSettings = new Dictionary<string, string>
    {
        ["Breakers:ConsecutiveFailureThreshold"] = "100000",
        ["Breakers:MinimumThroughput"] = "100000",
        ["Routing:MaxRetries"] = "0",
    };

    /// <summary>
    /// The shared node's own settings: <see cref="SharedSettings"/> with the answer cache off. Many tests ask it the
    /// same question ("Say hello.") and count model calls and tokens; the cache, looked up before every model call,
    /// would answer the repeats with no model call, so those counts would depend on test order. The cache is tested
    /// on nodes of its own (CacheRouteTests, RedisCacheTests).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> FixtureSettings = new Dictionary<string, string>(SharedSettings)
    {
        ["Cache:Enabled"] = "false",
    };

    public static string NewSessionId() => "test-" + Guid.NewGuid().ToString("N");

    /// <summary>POSTs a chat completion request, with <c>X-Session-Id</c> when <paramref name="sessionId"/> is given.</summary>
    public Task<HttpResponseMessage> PostChatAsync(string? sessionId, JsonNode body, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (sessionId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Session-Id", sessionId);
        }

        return Http.SendAsync(request, completion);
    }

    /// <summary>The session as GET /admin/sessions/{id} returns it (asserting 200).</summary>
    public async Task<JsonObject> GetSessionAsync(string sessionId)
    {
        using var response = await Http.GetAsync($"/admin/sessions/{sessionId}");
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>Calls the simulated model has received so far (GET /admin/models, field <c>calls</c>).</summary>
    public async Task<long> ModelCallsAsync(string model = "haiku") => (long)(await ModelStatsAsync(model))["calls"]!;

    public async Task<JsonObject> ModelStatsAsync(string model)
    {
        var models = await Http.GetFromJsonAsync<JsonArray>("/admin/models");
        return models!.Single(m => (string?)m!["name"] == model)!.AsObject();
    }

    /// <summary>The official OpenAI client, unmodified but for its base URL (and the session header when given).</summary>
    public ChatClient OpenAiChatClient(string model, string? sessionId = null) =>
        new(model, new ApiKeyCredential("unused"), OpenAiOptions(sessionId));

    public OpenAIClientOptions OpenAiOptions(string? sessionId = null)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(BaseAddress, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(30) };
        if (sessionId is not null)
        {
            options.AddPolicy(new SessionHeaderPolicy(sessionId), PipelinePosition.PerCall);
        }

        return options;
    }

    /// <summary>Adds <c>X-Session-Id</c> to every request the OpenAI client sends.</summary>
    private sealed class SessionHeaderPolicy(string sessionId) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set("X-Session-Id", sessionId);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set("X-Session-Id", sessionId);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    /// <summary>
    /// One collection: its tests run one after another, so the simulated models' call counters move
    /// only by what the running test does.
    /// </summary>
    public const string Name = "Gateway";
}
