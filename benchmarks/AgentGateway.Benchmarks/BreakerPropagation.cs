using System.Diagnostics;
using System.Globalization;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Governance;
using AgentGateway.Providers.Storage;
using Orleans;

namespace AgentGateway.Benchmarks;

/// <summary>
/// <c>AgentGateway.Benchmarks --breaker-propagation [rounds]</c>: how long an operator's isolate (then close) on one silo
/// takes to reach another silo's breaker view, the view its hot path reads. Two silos of this process form one cluster
/// over loopback TCP (localhost clustering, as two nodes on one machine); each round isolates or closes a breaker
/// through silo A's <c>ModelBreakers</c> and times, on a monotonic clock, from the call to the moment silo B took the
/// pushed view. Not BenchmarkDotNet: a latency distribution of one event, not a throughput.
/// </summary>
internal static class BreakerPropagation
{
    private static readonly string[] Models = ["haiku", "sonnet"];

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
        var store = new InMemoryBreakerStore();
        await using var a = await BenchSilo.StartAsync(new InMemorySessionStore(), new GovernanceOptions(), Models, store).ConfigureAwait(false);
        await using var b = await BenchSilo.StartAsync(new InMemorySessionStore(), new GovernanceOptions(), Models, store, join: a).ConfigureAwait(false);

        var management = a.Grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(onlyActive: true).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"silos in the cluster: {hosts.Count}; rounds per model: {rounds} (a warm-up of 20 first)"));
        Console.WriteLine("| breaker grain on | A's call answered (ms) p50 / p95 / max | B's view changed (ms) p50 / p95 / max |");
        Console.WriteLine("|---|---|---|");
        foreach (var model in Models)
        {
            var host = await management.GetActivationAddress(a.Grains.GetGrain<IBreakerGrain>(model)).ConfigureAwait(false);
            var where = host is null ? "?" : host.Endpoint.Port == a.Endpoint.Port ? "silo A (the caller): the push crosses to B" : "silo B: the call crosses to B, the push stays on B";
            await MeasureAsync(a, b, model, 20).ConfigureAwait(false);
            var (answered, seen) = await MeasureAsync(a, b, model, rounds).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {model}: {where} | {Percentiles(answered)} | {Percentiles(seen)} |"));
        }

        return 0;
    }

    private static async Task<(double[] Answered, double[] Seen)> MeasureAsync(BenchSilo a, BenchSilo b, string model, int rounds)
    {
        var answered = new double[rounds];
        var seen = new double[rounds];
        for (var i = 0; i < rounds; i++)
        {
            var target = i % 2 == 0 ? BreakerStatus.Isolated : BreakerStatus.Closed;
            var arrived = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnView(BreakerView view)
            {
                if (view.Model == model && view.Status == target)
                {
                    arrived.TrySetResult(Stopwatch.GetTimestamp());
                }
            }

            b.Breakers.ViewPublished += OnView;
            try
            {
                var start = Stopwatch.GetTimestamp();
                _ = target == BreakerStatus.Isolated
                    ? await a.Breakers.IsolateAsync(model, CancellationToken.None).ConfigureAwait(false)
                    : await a.Breakers.CloseAsync(model, CancellationToken.None).ConfigureAwait(false);
                answered[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                var at = await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                seen[i] = Stopwatch.GetElapsedTime(start, at).TotalMilliseconds;
            }
            finally
            {
                b.Breakers.ViewPublished -= OnView;
            }
        }

        return (answered, seen);
    }

    private static string Percentiles(double[] values)
    {
        var sorted = values.Order().ToArray();
        double At(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"{At(0.5):F3} / {At(0.95):F3} / {sorted[^1]:F3}");
    }
}
