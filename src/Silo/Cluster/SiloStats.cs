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
public sealed class SiloStats(IGrainFactory grains, ILocalSiloDetails local, GrainActivations activations, IClusterMembershipService membership)
{
    private static readonly string SessionType = GrainTypeOf<SessionGrain>();
    private static readonly string BreakerType = GrainTypeOf<BreakerGrain>();
    private static readonly TimeSpan CountsTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Every silo of the cluster (active ones first, then by address) with its activation counts.</summary>
    public async Task<IReadOnlyList<SiloView>> SilosAsync()
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        MembershipEntry[] hosts;
        try
        {
            hosts = await management.GetDetailedHosts(onlyActive: true).WaitAsync(CountsTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // The management grain lived on a silo that died and is not yet declared dead: this silo's own view of the
            // membership still answers (no start times, no other silo's counts).
            return [.. membership.CurrentSnapshot.Members.Values
                .Where(static m => m.Status == SiloStatus.Active)
                .OrderBy(static m => m.SiloAddress.ToString(), StringComparer.Ordinal)
                .Select(m => View(m.Name, m.SiloAddress, m.Status, null, null))];
        }

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
            .Select(h => View(h.SiloName, h.SiloAddress, h.Status, h.StartTime, counts))];
    }

    private SiloView View(string name, SiloAddress address, SiloStatus status, DateTime? startedAt, SimpleGrainStatistic[]? counts)
    {
        var self = address.Equals(local.SiloAddress);
        return new SiloView(
            name,
            address.Endpoint.ToString(),
            status.ToString().ToLowerInvariant(),
            self,
            startedAt,
            self ? activations.Sessions : counts is null ? null : Count(counts, address, SessionType),
            self ? activations.Breakers : counts is null ? null : Count(counts, address, BreakerType));
    }

    private static int Count(SimpleGrainStatistic[] counts, SiloAddress silo, string type) =>
        counts.Where(c => c.SiloAddress.Equals(silo) && string.Equals(c.GrainType, type, StringComparison.Ordinal)).Sum(static c => c.ActivationCount);

    private static string GrainTypeOf<T>() => RuntimeTypeNameFormatter.Format(typeof(T));
}

/// <summary>
/// One silo: its name, address, membership status, start time and the gateway's grain activations on it (null for
/// another silo while the cluster cannot collect them, e.g. a silo died and is not yet declared dead; then the start
/// time may be null too).
/// </summary>
public sealed record SiloView(
    string Node,
    string Address,
    string Status,
    bool Self,
    DateTime? StartedAt,
    int? SessionActivations,
    int? BreakerActivations);
