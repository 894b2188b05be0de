using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Hosting;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Telemetry;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Orleans;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// Retries at the router: throttled calls are retried on the same model with backoff and counted. The backoff
/// here is 1–2 ms of real time (Polly's jittered delay), so the test needs no clock to be moved by hand. The breakers
/// are a silo's, on a one-silo test cluster whose grains run on <see cref="_time"/>.
/// </summary>
public sealed class ModelRouterTests : IAsyncLifetime
{
    private readonly ServiceProvider _services;
    private readonly MetricCollector<long> _retries;
    private readonly FakeTimeProvider _time = new();
    private GrainTestCluster _cluster = null!;
    private ModelBreakers _breakers = null!;

    public ModelRouterTests()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        // Scoped to this test's meter factory: routers of tests running beside it never show up here.
        _retries = new MetricCollector<long>(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), GatewayMetrics.MeterName, "gateway.model.retries");
    }

    public async Task InitializeAsync()
    {
        _cluster = await GrainTestCluster.StartAsync(services: static s => s.AddModelBreakers(static _ => ["haiku", "sonnet"]), time: _time);
        _breakers = _cluster.FirstSilo.GetRequiredService<ModelBreakers>();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _retries.Dispose();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task CompleteAsync_TwoThrottledAnswersThenSuccess_RetriedOnSameModelAndCounted()
    {
        var haiku = new ScriptedChatClient("haiku", 429, 429);
        var router = NewRouter(haiku, maxRetries: 2);

        var result = await router.CompleteAsync(Entry(haiku), [new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "haiku" }, CancellationToken.None);

        result.Route.ShouldBe("primary");
        result.Model.ShouldBe("haiku");
        result.Response!.Text.ShouldBe("scripted answer from haiku");
        haiku.Calls.ShouldBe(3);
        _retries.GetMeasurementSnapshot().Select(static m => (m.Value, Model: m.Tags["model"])).ShouldBe([(1L, "haiku"), (1L, "haiku")]);
    }

    [Fact]
    public async Task CompleteAsync_ThrottledPastTheRetries_MovesToTheFallbackModel()
    {
        var haiku = new ScriptedChatClient("haiku", 429, 429, 429);
        var router = NewRouter(haiku, maxRetries: 2);

        var result = await router.CompleteAsync(Entry(haiku), [new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "haiku" }, CancellationToken.None);

        haiku.Calls.ShouldBe(3);
        result.Route.ShouldBe("fallback:sonnet");
        result.Response!.Text.ShouldBe("This is a simulated answer from sonnet.");
    }

    [Fact]
    public async Task CompleteAsync_PlainServerError_NotRetriedMovesOnAtOnce()
    {
        var haiku = new ScriptedChatClient("haiku", 500);
        var router = NewRouter(haiku, maxRetries: 2);

        var result = await router.CompleteAsync(Entry(haiku), [new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "haiku" }, CancellationToken.None);

        haiku.Calls.ShouldBe(1);
        result.Route.ShouldBe("fallback:sonnet");
        _retries.GetMeasurementSnapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task OpenStreamAsync_FirstUpdateNeverComes_TimesOutAtCallTimeoutAndStreamsFromFallback()
    {
        var time = _time;
        var haiku = new SimulatedChatClient("haiku", time) { Faults = new SimulatedFaults(Stall: true) };
        var sonnet = new SimulatedChatClient("sonnet", time);
        var catalog = new ModelCatalog([new ModelEntry("haiku", "simulated", haiku), new ModelEntry("sonnet", "simulated", sonnet)]);
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var router = new ModelRouter(catalog, _breakers, Options.Create(new RoutingOptions()), new GatewayMetrics(meters), time, NullLogger<ModelRouter>.Instance);

        // The silo subscribed to both breakers as it started, so the check is the synchronous local read a warm node does.
        _breakers.AcquireAsync("haiku", CancellationToken.None).IsCompletedSuccessfully.ShouldBeTrue();
        _breakers.AcquireAsync("sonnet", CancellationToken.None).IsCompletedSuccessfully.ShouldBeTrue();

        var opening = router.OpenStreamAsync(catalog.Models.First(), [new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "haiku" }, CancellationToken.None);
        time.Advance(RoutingOptions.DefaultCallTimeout - TimeSpan.FromTicks(1));
        opening.IsCompleted.ShouldBeFalse();
        time.Advance(TimeSpan.FromTicks(1));
        var (stream, _) = await opening;

        await using (stream!)
        {
            stream!.Route.ShouldBe("fallback:sonnet");
            stream.HasFirst.ShouldBeTrue();
            haiku.Cancellations.ShouldBe(1);
            var breaker = await _breakers.GetAsync("haiku", CancellationToken.None);
            breaker!.ConsecutiveFailures.ShouldBe(1);
        }
    }

    private static ModelEntry Entry(IChatClient client) => new("haiku", "scripted", client);

    private ModelRouter NewRouter(ScriptedChatClient haiku, int maxRetries)
    {
        var catalog = new ModelCatalog([Entry(haiku), new ModelEntry("sonnet", "simulated", new SimulatedChatClient("sonnet", TimeProvider.System))]);
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var options = Options.Create(new RoutingOptions
        {
            MaxRetries = maxRetries,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(2),
        });
        return new ModelRouter(catalog, _breakers, options, new GatewayMetrics(meters), TimeProvider.System, NullLogger<ModelRouter>.Instance);
    }

    /// <summary>An upstream model that fails with the given statuses, in order, then answers.</summary>
    private sealed class ScriptedChatClient(string model, params int[] failures) : IChatClient
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var call = Interlocked.Increment(ref _calls);
            return call <= failures.Length
                ? Task.FromException<ChatResponse>(new ModelCallException(model, failures[call - 1], $"scripted {failures[call - 1]}"))
                : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"scripted answer from {model}")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
