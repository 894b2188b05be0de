using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AgentGateway.Grains.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Caching;
using AgentGateway.Providers.Limits;
using AgentGateway.Providers.Models;
using AgentGateway.Providers.Storage;
using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Limits;
using AgentGateway.Silo.OpenAi;
using AgentGateway.Silo.Pipeline;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Telemetry;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Benchmarks;

/// <summary>
/// Where a governed request's time goes inside the Silo, without sockets: the handler's steps added one at a
/// time (parse, map, admit, model call, settle and write), then the whole <see cref="ChatCompletionsHandler"/> on
/// a <see cref="DefaultHttpContext"/>. The difference to the load test is Kestrel, middleware and routing.
/// Run with <c>--handler</c>; it needs no Redis.
/// </summary>
[MemoryDiagnoser]
public class HandlerPathBenchmarks
{
    private const int Sessions = 1000;
    private const string CounterMarker = "0000000000";

    // The same body as benchmarks/wrk/chat.lua sends; the counter makes every request a new task.
    private const string BodyTemplate = """
        {"model":"haiku","messages":[{"role":"system","content":"You are the order assistant of a manga store. Answer briefly."},{"role":"user","content":"Question 0-0000000000: is volume 3 of Blue Period in stock, and can it ship this week?"}],"max_tokens":128,"temperature":0.2}
        """;

    private readonly byte[] _body = Encoding.UTF8.GetBytes(BodyTemplate);
    private readonly string[] _sessionIds = Enumerable.Range(0, Sessions).Select(i => $"bench-{i:D4}").ToArray();
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private int _counterOffset;
    private long _counter;
    private int _next;
    private JsonTypeInfo<ChatCompletionRequest> _requestInfo = null!;
    private BenchSilo _silo = null!;
    private ModelEntry _model = null!;
    private ChatCompletionsHandler _handler = null!;
    private ServiceProvider _services = null!;
    private ModelBreakers _breakers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _counterOffset = _body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(CounterMarker));
        _requestInfo = SiloJson.RequestTypeInfo();
        var governance = new GovernanceOptions { TokenBudget = long.MaxValue / 2 };
        _silo = BenchSilo.StartAsync(new InMemorySessionStore(), governance, ["haiku"]).GetAwaiter().GetResult();
        var catalog = ModelCatalog.Create(new ModelCatalogOptions { Models = { ["haiku"] = new ModelDefinition() } }, TimeProvider.System);
        catalog.TryGet("haiku", out _model);
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _breakers = _silo.Breakers;
        var router = new ModelRouter(catalog, _breakers, Options.Create(new RoutingOptions()), metrics, TimeProvider.System, NullLogger<ModelRouter>.Instance);
        var cache = new AnswerCache(
            new InMemoryResponseCache(CacheOptions.DefaultMaxEntries, CacheOptions.DefaultTimeToLive, TimeProvider.System),
            Options.Create(new CacheOptions()),
            metrics,
            TimeProvider.System,
            NullLogger<AnswerCache>.Instance);
        var calls = new GovernedCalls(
            _silo.Sessions,
            new TenantRateLimits(new InProcessTenantRateLimiter(), Options.Create(new AuthOptions()), metrics, TimeProvider.System),
            cache,
            router,
            Options.Create(governance),
            metrics,
            NullLogger<GovernedCalls>.Instance);
        _handler = new ChatCompletionsHandler(calls, catalog, Options.Create(new GatewayOptions()), TimeProvider.System);

        // Warm every session grain and the JIT.
        for (var i = 0; i < Sessions * 2; i++)
        {
            FullHandler().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1 parse (System.Text.Json, Silo's context)")]
    public ValueTask<ChatCompletionRequest?> Parse() => ParseAsync();

    [Benchmark(Description = "2 parse + map (ChatRequestMapper)")]
    public async Task<MappedChatRequest> ParseMap() => Map(await ParseAsync().ConfigureAwait(false));

    [Benchmark(Description = "3 parse + map + AdmitAsync")]
    public async Task<Admission> ParseMapAdmit()
    {
        var mapped = Map(await ParseAsync().ConfigureAwait(false));
        return await _silo.Sessions.Get(NextSession()).AdmitAsync(mapped.Turn).ConfigureAwait(false);
    }

    [Benchmark(Description = "4 ... + sim model call")]
    public async Task<ChatResponse> ParseMapAdmitCall()
    {
        var mapped = Map(await ParseAsync().ConfigureAwait(false));
        await _silo.Sessions.Get(NextSession()).AdmitAsync(mapped.Turn).ConfigureAwait(false);
        return await _model.Client.GetResponseAsync(mapped.Messages, mapped.Options, CancellationToken.None).ConfigureAwait(false);
    }

    [Benchmark(Description = "5 ... + Settle + write completion JSON")]
    public async Task<int> ParseMapAdmitCallSettleWrite()
    {
        var mapped = Map(await ParseAsync().ConfigureAwait(false));
        var session = NextSession();
        var admission = await _silo.Sessions.Get(session).AdmitAsync(mapped.Turn).ConfigureAwait(false);
        var response = await _model.Client.GetResponseAsync(mapped.Messages, mapped.Options, CancellationToken.None).ConfigureAwait(false);
        var input = response.Usage?.InputTokenCount ?? admission.ReservedInputTokens;
        var output = response.Usage?.OutputTokenCount ?? 0;
        _ = _silo.Sessions.Get(session).SettleAsync(new CallSettlement(admission.ReservedInputTokens, input, output));
        _output.ResetWrittenCount();
        ChatCompletionWriter.WriteCompletion(_output, new CompletionPayload(
            "chatcmpl-" + Guid.CreateVersion7().ToString("N"),
            TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
            _model.Name,
            response.Messages[^1].Text,
            null,
            "stop",
            input,
            output));
        return _output.WrittenCount;
    }

    [Benchmark(Description = "6 ChatCompletionsHandler on a DefaultHttpContext")]
    public async Task<int> FullHandler()
    {
        var context = new DefaultHttpContext { RequestServices = _services };

        // What the auth middleware sets for a loopback caller when no key is configured.
        context.Features.Set(GatewayCaller.Local);
        var request = context.Request;
        request.Method = "POST";
        request.Path = "/v1/chat/completions";
        request.ContentType = "application/json";
        request.Headers[SessionIds.Header] = NextSession();
        request.Body = new MemoryStream(NextBody(), writable: false);
        request.ContentLength = _body.Length;
        context.Response.Body = Stream.Null;
        var result = await _handler.HandleAsync(context).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
        return context.Response.StatusCode;
    }

    private ValueTask<ChatCompletionRequest?> ParseAsync()
        => JsonSerializer.DeserializeAsync(new MemoryStream(NextBody(), writable: false), _requestInfo, CancellationToken.None);

    private static MappedChatRequest Map(ChatCompletionRequest? request)
        => ChatRequestMapper.TryMap(request!, "haiku", out var mapped, out var error)
            ? mapped
            : throw new InvalidOperationException(error.Detail);

    /// <summary>The body with a new counter in the user message (a new task each time).</summary>
    private byte[] NextBody()
    {
        Utf8Formatter.TryFormat(++_counter, _body.AsSpan(_counterOffset, CounterMarker.Length), out _, new StandardFormat('D', 10));
        return _body;
    }

    private string NextSession()
    {
        var next = _next + 1;
        _next = next == Sessions ? 0 : next;
        return _sessionIds[_next];
    }
}

/// <summary>The Silo's own source-generated JSON metadata (its context is internal: looked up once by name, not copied).</summary>
internal static class SiloJson
{
    public static JsonTypeInfo<ChatCompletionRequest> RequestTypeInfo()
    {
        const string contextName = "AgentGateway.Silo.OpenAi.OpenAiJsonContext";
        var contextType = typeof(ChatCompletionRequest).Assembly.GetType(contextName, throwOnError: true)!;
        var context = (JsonSerializerContext)contextType.GetProperty("Default", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        return (JsonTypeInfo<ChatCompletionRequest>)context.GetTypeInfo(typeof(ChatCompletionRequest))!;
    }
}
