using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance;
using AgentGateway.Grains.Breakers;
using AgentGateway.Providers.Storage;
using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;

namespace AgentGateway.Benchmarks;

/// <summary>
/// The per-call breaker check on a closed breaker, measured in one run:
/// <list type="bullet">
/// <item><see cref="ModelBreakers.AcquireAsync"/>: the gateway's hot path (a read of the view the model's breaker grain
/// pushed to this silo), on a silo of this process;</item>
/// <item>Polly.Core's circuit breaker, closed: a <see cref="ResiliencePipeline"/> with only
/// <c>AddCircuitBreaker</c> executing a no-op synchronous callback, and a read of its
/// <see cref="CircuitBreakerStateProvider"/>.</item>
/// </list>
/// The outcome report is not part of either check: Polly's pipeline counts the outcome inside the call; the gateway
/// keeps a success for its next batch to the grain after the model answered. No Redis is needed.
/// </summary>
[MemoryDiagnoser]
public class BreakerCheckBenchmarks
{
    private const string Model = "haiku";

    private BenchSilo _silo = null!;
    private ModelBreakers _breakers = null!;
    private ResiliencePipeline _polly = null!;
    private CircuitBreakerStateProvider _pollyState = null!;

    [GlobalSetup]
    public void Setup()
    {
        _silo = BenchSilo.StartAsync(new InMemorySessionStore(), new GovernanceOptions(), [Model, "sonnet"]).GetAwaiter().GetResult();
        _breakers = _silo.Breakers;

        // The silo subscribed to its breakers as it started: every check is a read of the pushed view.
        var first = _breakers.AcquireAsync(Model, CancellationToken.None);
        if (!first.IsCompletedSuccessfully || !first.Result.Allowed || _breakers.ViewOf(Model)?.Status != BreakerStatus.Closed)
        {
            throw new InvalidOperationException("The breaker is not closed on the hot path.");
        }

        _pollyState = new CircuitBreakerStateProvider();
        _polly = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions { StateProvider = _pollyState })
            .Build();
    }

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

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
