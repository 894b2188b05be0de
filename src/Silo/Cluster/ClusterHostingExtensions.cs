using System.Globalization;
using AgentGateway.Alerts;
using AgentGateway.Contracts.Cluster;
using AgentGateway.Providers.Storage;
using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Cluster;

/// <summary>How a node joins the cluster (registry, heartbeats, alert adoption, breaker refresh) and the <c>GET /admin/nodes</c> view.</summary>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// <see cref="ClusterOptions"/> validated at start, this node's <see cref="NodeIdentity"/>, the in-memory registry unless a durable
    /// one was registered before (AddDurableStorage), and <see cref="ClusterMembership"/> as a hosted service.
    /// </summary>
    public static WebApplicationBuilder AddCluster(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ClusterOptions>(builder.Configuration, ClusterOptions.SectionName);
        services.TryAddSingleton<INodeRegistry, InMemoryNodeRegistry>();
        services.AddSingleton(static sp => new NodeIdentity(
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId ?? AlertComposer.ThisNode,
            sp.GetRequiredService<TimeProvider>().GetUtcNow()));
        services.AddSingleton(static sp => ActivatorUtilities.CreateInstance<ClusterMembership>(
            sp, sp.GetRequiredService<IOptions<ClusterOptions>>().Value));
        services.AddHostedService(static sp => sp.GetRequiredService<ClusterMembership>());
        return builder;
    }

    /// <summary><c>GET /admin/nodes</c>: the live nodes (heartbeat within <c>Cluster:DeadAfter</c>) with their activation counts.</summary>
    public static IEndpointRouteBuilder MapClusterAdminApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(AdminApi.LoopbackOnly)
            .MapGet("/nodes", GetNodesAsync);
        return app;
    }

    private static async Task<Ok<NodesView>> GetNodesAsync(ClusterMembership membership, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var nodes = await membership.LiveNodesAsync(now, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new NodesView(
            membership.NodeId,
            membership.Options.DeadAfter.TotalSeconds,
            [.. nodes.Select(n => new NodeView(
                n.NodeId,
                n.NodeId == membership.NodeId,
                n.Address,
                n.StartedAt,
                n.HeartbeatAt,
                Math.Round((now - n.HeartbeatAt).TotalSeconds, 3),
                n.SessionActivations,
                n.BreakerActivations,
                n.Conversations,
                n.Sockets))]));
    }

    /// <summary>The answer of <c>GET /admin/nodes</c>.</summary>
    public sealed record NodesView(string Self, double DeadAfterSeconds, IReadOnlyList<NodeView> Nodes);

    /// <summary>One live node; <c>HeartbeatAgeSeconds</c> is measured on the answering node's clock.</summary>
    public sealed record NodeView(
        string Node,
        bool Self,
        string Address,
        DateTimeOffset StartedAt,
        DateTimeOffset HeartbeatAt,
        double HeartbeatAgeSeconds,
        int SessionActivations,
        int BreakerActivations,
        int Conversations,
        int Sockets);
}
