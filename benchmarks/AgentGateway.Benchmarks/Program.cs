using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace AgentGateway.Benchmarks;

/// <summary>
/// <c>AgentGateway.Benchmarks [BenchmarkDotNet args]</c>: the governance check in process against Redis (needs
/// AGW_BENCH_REDIS_PORT; see benchmarks/run-benchmarks.sh). <c>AgentGateway.Benchmarks --handler [args]</c>: the
/// Silo's request path step by step (no Redis). <c>AgentGateway.Benchmarks --breakers [args]</c>: the closed-breaker
/// check against Polly's circuit breaker (no Redis). <c>AgentGateway.Benchmarks --breaker-propagation [rounds]</c>: how long
/// an isolate on one silo takes to reach another silo's breaker view (not BenchmarkDotNet; see
/// <see cref="BreakerPropagation"/>). <c>AgentGateway.Benchmarks --idle-memory [sessions]</c>: the memory an idle session
/// actor keeps (not BenchmarkDotNet; see <see cref="IdleSessionMemory"/>).
/// </summary>
internal static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--idle-memory")
        {
            // Not a BenchmarkDotNet run: a heap measurement in this process (see IdleSessionMemory).
            return await IdleSessionMemory.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args.Length > 0 && args[0] == "--breaker-propagation")
        {
            // Not a BenchmarkDotNet run: the latency of one push between two silos of this process (see BreakerPropagation).
            return await BreakerPropagation.RunAsync(args[1..]).ConfigureAwait(false);
        }

        // In process: no generated project is rebuilt (others build in this tree at the same time), and every
        // benchmark of a class runs in this one process, with the same runtime settings, in the same run.
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithWarmupCount(5)
                .WithIterationCount(20)
                .WithId("InProcess"))
            .AddColumn(StatisticColumn.P95)
            .WithOptions(ConfigOptions.JoinSummary);

        if (args.Contains("--handler"))
        {
            var handler = BenchmarkRunner.Run<HandlerPathBenchmarks>(config, [.. args.Where(a => a != "--handler")]);
            return handler.Reports.All(r => r.Success) ? 0 : 1;
        }

        if (args.Contains("--breakers"))
        {
            var breakers = BenchmarkRunner.Run<BreakerCheckBenchmarks>(config, [.. args.Where(a => a != "--breakers")]);
            return breakers.Reports.All(r => r.Success) ? 0 : 1;
        }

        // Fail fast, before any benchmark runs, when the Redis the comparison needs is not there.
        try
        {
            var port = RedisProbe.PortFromEnvironment();
            await RedisProbe.Connect(port).CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            await Console.Error.WriteLineAsync("ERROR: " + ex.Message).ConfigureAwait(false);
            return 2;
        }

        var summary = BenchmarkRunner.Run<GovernanceCheckBenchmarks>(config, args);
        var means = summary.Reports
            .Where(r => r.ResultStatistics is not null)
            .ToDictionary(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name, r => r.ResultStatistics!.Mean);
        if (!means.TryGetValue(nameof(GovernanceCheckBenchmarks.RedisGetThenIncrement), out var redis))
        {
            await Console.Error.WriteLineAsync("ERROR: the Redis baseline produced no result; see the log above.").ConfigureAwait(false);
            return 1;
        }

        Console.WriteLine();
        Console.WriteLine("Speed-up over the Redis check-then-increment (GET, compare, INCR+EXPIRE: 2 RTT), mean/mean; goal >= 20x:");
        foreach (var (name, mean) in means.OrderBy(m => m.Value))
        {
            var ratio = redis / mean;
            var verdict = name.StartsWith("Redis", StringComparison.Ordinal) ? string.Empty : ratio >= 20 ? "meets 20x" : "MISSES 20x";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-28} {mean,12:N1} ns   {ratio,10:N1}x   {verdict}"));
        }

        return summary.Reports.All(r => r.Success) ? 0 : 1;
    }
}
