using System.Net;
using System.Net.Sockets;
using AgentGateway.Grains.Hosting;
using AgentGateway.Redis;
using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansClusterOptions = Orleans.Configuration.ClusterOptions;

namespace AgentGateway.Silo.Cluster;

/// <summary>How a node hosts its Orleans silo, and the <c>GET /admin/nodes</c> view of the cluster's silos.</summary>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// The Orleans silo, co-hosted with Kestrel in this process: the web front end calls grains in process. Grain state
    /// is in the stores of <c>Storage:Provider</c> (<see cref="StorageHostingExtensions.AddStateStores"/>: in memory, or
    /// DynamoDB). <c>Cluster:Membership</c> picks how silos meet:
    /// <list type="bullet">
    /// <item><c>Localhost</c> (the embedded default): localhost clustering on a loopback port, reminders in memory.</item>
    /// <item><c>Redis</c> (cluster mode): Orleans' Redis membership and Redis reminders on <c>Redis:Configuration</c>,
    /// so every silo with the same <c>Cluster:ClusterId</c> joins one cluster and each grain has one activation in it.</item>
    /// </list>
    /// Neither opens Orleans' client gateway: the web front end is in the silo.
    /// </summary>
    public static WebApplicationBuilder AddSilo(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ClusterOptions>(builder.Configuration, ClusterOptions.SectionName);
        services.AddSingleton<IValidateOptions<ClusterOptions>>(new ClusterModeValidator(builder.Configuration));
        var configured = builder.Configuration.GetSection(ClusterOptions.SectionName).Get<ClusterOptions>() ?? new ClusterOptions();
        services.AddSingleton(static sp => new GatewayNode(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId ?? GatewayNode.ThisProcess));
        services.AddSingleton<SiloStats>();
        var siloPort = configured.SiloPort is > 0 and <= 65535 ? configured.SiloPort : FreePort();
        builder.UseOrleans(silo =>
        {
            if (configured.IsRedis)
            {
                UseRedisCluster(silo, builder.Configuration, configured, siloPort);
            }
            else
            {
                silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: 0);
                silo.UseInMemoryReminderService();
            }

            silo.Configure<OrleansClusterOptions>(o =>
            {
                o.ClusterId = configured.ClusterId;
                o.ServiceId = configured.ClusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = configured.NodeId ?? GatewayNode.ThisProcess);
            silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = configured.CollectionAge);
            silo.AddGatewayGrains();
        });
        return builder;
    }

    /// <summary>
    /// Cluster mode: membership and reminders in Redis, the silo listening on every address and advertising
    /// <see cref="ClusterOptions.AdvertisedAddress"/>, failure detection from <see cref="ClusterOptions.ProbeTimeout"/>
    /// and <see cref="ClusterOptions.MissedProbesLimit"/>.
    /// </summary>
    /// <remarks>
    /// Orleans' Redis providers get a multiplexer of their own over the same <c>Redis:Configuration</c>, with
    /// StackExchange.Redis' default timeouts: the cache and limits' connection fails fast (250 ms, no backlog) so a slow
    /// Redis never holds a request, which is the wrong trade for membership, where a missed write is a missed heartbeat.
    /// The configuration string is parsed when the silo starts, after <see cref="ClusterModeValidator"/> has vetted it.
    /// </remarks>
    private static void UseRedisCluster(ISiloBuilder silo, IConfiguration configuration, ClusterOptions cluster, int siloPort)
    {
        var redis = configuration[$"{RedisOptions.SectionName}:{nameof(RedisOptions.Configuration)}"] ?? string.Empty;
        silo.UseRedisClustering(o => o.ConfigurationOptions = RedisFor(redis, "membership"));
        silo.UseRedisReminderService(o => o.ConfigurationOptions = RedisFor(redis, "reminders"));
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = cluster.AdvertisedAddress is { } address && IPAddress.TryParse(address, out var ip) ? ip : HostAddress();
            o.SiloPort = siloPort;
            o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, siloPort);
            o.GatewayPort = 0;
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = cluster.ProbeTimeout;
            o.NumMissedProbesLimit = cluster.MissedProbesLimit;
        });
    }

    private static StackExchange.Redis.ConfigurationOptions RedisFor(string configuration, string purpose)
    {
        var options = StackExchange.Redis.ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ClientName ??= "agent-gateway-" + purpose;
        return options;
    }

    /// <summary>The first IPv4 address the host name resolves to (what Orleans itself would advertise), else loopback.</summary>
    private static IPAddress HostAddress()
    {
        try
        {
            return Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(static a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
                ?? IPAddress.Loopback;
        }
        catch (SocketException)
        {
            return IPAddress.Loopback;
        }
    }

    /// <summary><c>GET /admin/nodes</c>: the cluster's silos (Orleans membership) with their activation counts.</summary>
    public static IEndpointRouteBuilder MapClusterAdminApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(AdminApi.LoopbackOnly)
            .MapGet("/nodes", GetNodesAsync);
        return app;
    }

    private static async Task<Ok<NodesView>> GetNodesAsync(SiloStats stats, GatewayNode node)
    {
        var silos = await stats.SilosAsync().ConfigureAwait(false);
        return TypedResults.Ok(new NodesView(node.Id, silos));
    }

    /// <summary>
    /// A free port for the silo: the embedded default talks to no other silo, and several nodes on one machine (tests,
    /// the local cluster script) must not collide on Orleans' fixed default.
    /// </summary>
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>What cluster mode needs from the other sections: a Redis to meet in, and grain state that outlives a silo.</summary>
    private sealed class ClusterModeValidator(IConfiguration configuration) : IValidateOptions<ClusterOptions>
    {
        public ValidateOptionsResult Validate(string? name, ClusterOptions options)
        {
            if (!options.IsRedis)
            {
                return ValidateOptionsResult.Success;
            }

            var errors = new List<string>();
            if (string.IsNullOrWhiteSpace(configuration[$"{RedisOptions.SectionName}:{nameof(RedisOptions.Configuration)}"]))
            {
                errors.Add($"{ClusterOptions.SectionName}:{nameof(ClusterOptions.Membership)}={ClusterOptions.Redis} needs {RedisOptions.SectionName}:{nameof(RedisOptions.Configuration)} (the Redis the silos meet in).");
            }

            if (!string.Equals(configuration[$"{StorageOptions.SectionName}:{nameof(StorageOptions.Provider)}"], StorageOptions.DynamoDb, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{ClusterOptions.SectionName}:{nameof(ClusterOptions.Membership)}={ClusterOptions.Redis} needs {StorageOptions.SectionName}:{nameof(StorageOptions.Provider)}={StorageOptions.DynamoDb}: in-memory grain state would die with its silo.");
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    /// <summary>The answer of <c>GET /admin/nodes</c>: this node's name and every silo of the cluster.</summary>
    public sealed record NodesView(string Self, IReadOnlyList<SiloView> Nodes);
}
