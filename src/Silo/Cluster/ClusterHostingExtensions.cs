using System.Net;
using System.Net.Sockets;
using AgentGateway.Grains.Hosting;
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
    /// The Orleans silo, co-hosted with Kestrel in this process: the web front end calls grains in process. The embedded
    /// default: localhost clustering on a loopback port, no gateway for outside clients, grain state in the stores of
    /// <c>Storage:Provider</c> (<see cref="StorageHostingExtensions.AddStateStores"/>: in memory, or DynamoDB), reminders
    /// in memory.
    /// </summary>
    public static WebApplicationBuilder AddSilo(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ClusterOptions>(builder.Configuration, ClusterOptions.SectionName);
        var configured = builder.Configuration.GetSection(ClusterOptions.SectionName).Get<ClusterOptions>() ?? new ClusterOptions();
        services.AddSingleton(static sp => new GatewayNode(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId ?? GatewayNode.ThisProcess));
        services.AddSingleton<SiloStats>();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: configured.SiloPort is > 0 and <= 65535 ? configured.SiloPort : FreeLoopbackPort(), gatewayPort: 0);
            silo.Configure<OrleansClusterOptions>(o =>
            {
                o.ClusterId = configured.ClusterId;
                o.ServiceId = configured.ClusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = configured.NodeId ?? GatewayNode.ThisProcess);
            silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = configured.CollectionAge);
            silo.UseInMemoryReminderService();
            silo.AddGatewayGrains();
        });
        return builder;
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
    /// A free loopback port for the silo: the embedded default talks to no other silo, and several nodes on one machine
    /// (tests, the local cluster script) must not collide on Orleans' fixed default.
    /// </summary>
    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The answer of <c>GET /admin/nodes</c>: this node's name and every silo of the cluster.</summary>
    public sealed record NodesView(string Self, IReadOnlyList<SiloView> Nodes);
}
