using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Conversations;
using AgentGateway.Silo.Dashboard;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// The operator dashboard: the page at <c>GET /dashboard</c> (with <c>/dashboard.js</c> and <c>/dashboard.css</c>,
/// embedded like the chat page) and its push feed <c>GET /admin/events</c> (Server-Sent Events, admin-authenticated
/// like every <c>/admin</c> path). The page holds no data of its own: everything it shows comes from the feed, and its
/// buttons call the admin API (<c>POST /admin/sessions/{id}/resume</c> and <c>/end</c>).
/// </summary>
public static class DashboardApi
{
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Only configuration is read here: the services behind the feed are resolved at its first request, so a
        // bad setting elsewhere still reaches the start's validation (exit code 2) instead of failing at mapping.
        var services = app.ServiceProvider;
        var interval = DashboardFeed.IntervalFrom(services.GetRequiredService<IConfiguration>()["Dashboard:Interval"]);
        var feed = new Lazy<DashboardFeed>(
            () => new DashboardFeed(
                services.GetRequiredService<ISessionCatalog>(),
                services.GetRequiredService<IModelBreakers>(),
                services.GetRequiredService<IGrainFactory>(),
                services.GetRequiredService<IOptions<GovernanceOptions>>().Value,
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<SiloStats>(),
                services.GetRequiredService<ChatConversations>(),
                interval),
            LazyThreadSafetyMode.ExecutionAndPublication);

        app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(AdminApi.LoopbackOnly)
            .MapGet("/events", async (HttpContext http, CancellationToken cancellationToken) =>
            {
                var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
                await feed.Value.StreamAsync(http.Response, both.Token).ConfigureAwait(false);
                return Results.Empty;
            });

        EmbeddedPages.Map(
            app,
            "Dashboard",
            ("/dashboard", "dashboard.html", "text/html; charset=utf-8"),
            ("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
            ("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"));
        return app;
    }
}
