using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Sessions;
using Orleans.Serialization.TypeSystem;

namespace AgentGateway.Silo.Cluster;

/// <summary>
/// The cluster's silos as Orleans membership knows them, with the gateway's grain activations on each: this silo's
/// counted by its grains (<see cref="GrainActivations"/>), another's read from the management grain (counted per
/// process: one silo a process in a cluster). What <c>GET /admin/nodes</c> and the dashboard show.
/// </summary>
public sealed class SiloStats(IGrainFactory grains, ILocalSiloDetails local, GrainActivations activations)
{
    private static readonly string SessionType = GrainTypeOf<SessionGrain>();
    private static readonly string BreakerType = GrainTypeOf<BreakerGrain>();
    private static readonly TimeSpan CountsTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Every silo of the cluster (active ones first, then by address) with its activation counts.</summary>
    public async Task<IReadOnlyList<SiloView>> SilosAsync()
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true).ConfigureAwait(false);
        SimpleGrainStatistic[]? counts;
        try
        {
            counts = await management.GetSimpleGrainStatistics([.. hosts.Select(static h => h.SiloAddress)]).WaitAsync(CountsTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // A silo that died and is not yet declared dead cannot answer: the list still answers, without other
            // silos' counts, rather than failing until membership catches up.
            counts = null;
        }

        return [.. hosts
            .OrderBy(static h => h.SiloAddress.ToString(), StringComparer.Ordinal)
            .Select(h =>
            {
                var self = h.SiloAddress.Equals(local.SiloAddress);
                return new SiloView(
                    h.SiloName,
                    h.SiloAddress.Endpoint.ToString(),
                    h.Status.ToString().ToLowerInvariant(),
                    self,
                    h.StartTime,
                    self ? activations.Sessions : counts is null ? null : Count(counts, h.SiloAddress, SessionType),
                    self ? activations.Breakers : counts is null ? null : Count(counts, h.SiloAddress, BreakerType));
            })];
    }

    private static int Count(SimpleGrainStatistic[] counts, SiloAddress silo, string type) =>
        counts.Where(c => c.SiloAddress.Equals(silo) && string.Equals(c.GrainType, type, StringComparison.Ordinal)).Sum(static c => c.ActivationCount);

    private static string GrainTypeOf<T>() => RuntimeTypeNameFormatter.Format(typeof(T));
}

/// <summary>
/// One silo: its name, address, membership status, start time and the gateway's grain activations on it (null for
/// another silo while the cluster cannot collect them, e.g. a silo died and is not yet declared dead).
/// </summary>
public sealed record SiloView(
    string Node,
    string Address,
    string Status,
    bool Self,
    DateTime StartedAt,
    int? SessionActivations,
    int? BreakerActivations);
