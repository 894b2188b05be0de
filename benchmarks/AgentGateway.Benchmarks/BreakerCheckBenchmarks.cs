using AgentGateway.Actors.Breakers;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance.Breakers;
using AgentGateway.Providers.Storage;
using AgentGateway.Runtime;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;

namespace AgentGateway.Benchmarks;

/// <summary>
/// The per-call breaker check on a closed breaker, measured in one run:
/// <list type="bullet">
/// <item><see cref="ModelBreakers.AcquireAsync"/>: the gateway's hot path (a read of the model's published view);</item>
/// <item>Polly.Core's circuit breaker, closed: a <see cref="ResiliencePipeline"/> with only
/// <c>AddCircuitBreaker</c> executing a no-op synchronous callback, and a read of its
/// <see cref="CircuitBreakerStateProvider"/>.</item>
/// </list>
/// The outcome report is not part of either check: Polly's pipeline counts the outcome inside the call; the gateway
/// sends it one-way to the model's actor after the model answered, off the caller's path. No Redis is needed.
/// </summary>
[MemoryDiagnoser]
public class BreakerCheckBenchmarks
{
    private const string Model = "haiku";

    private ModelBreakers _breakers = null!;
    private ResiliencePipeline _polly = null!;
    private CircuitBreakerStateProvider _pollyState = null!;

    [GlobalSetup]
    public void Setup()
    {
        _breakers = new ModelBreakers(
            [Model, "sonnet"],
            new InMemoryBreakerStore(),
            new BreakerOptions(),
            new ActorHostOptions(),
            TimeProvider.System,
            NullLoggerFactory.Instance);

        // The first call loads the breaker (an actor turn) and publishes the view; every later one reads it.
        var first = _breakers.AcquireAsync(Model, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (!first.Allowed || !_breakers.AcquireAsync(Model, CancellationToken.None).IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The breaker is not closed on the hot path.");
        }

        _pollyState = new CircuitBreakerStateProvider();
        _polly = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions { StateProvider = _pollyState })
            .Build();
    }

    [GlobalCleanup]
    public void Cleanup() => _breakers.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public bool ModelBreakersAcquire()
    {
        var pending = _breakers.AcquireAsync(Model, CancellationToken.None);
        return (pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult()).Allowed;
    }

    [Benchmark]
    public void PollyPipelineExecute() => _polly.Execute(static () => { });

    [Benchmark]
    public bool PollyStateProviderRead() => _pollyState.CircuitState == CircuitState.Closed;
}
