using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Alerts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentGateway.Silo.Apis;

/// <summary><c>GET /admin/alerts</c>: recent alerts with each sink's delivery. Loopback callers only, like every admin endpoint.</summary>
public static class AlertsAdminApi
{
    public static IEndpointRouteBuilder MapAlertsAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/alerts").WithTags("Admin").AddEndpointFilter(AdminApi.LoopbackOnly);
        admin.MapGet("/", GetAlertsAsync);
        return app;
    }

    public static async Task<Ok<AlertList>> GetAlertsAsync(IGrainFactory grains, IEnumerable<IAlertSink> sinks)
    {
        var recent = await grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox).ListAsync().ConfigureAwait(false);
        return TypedResults.Ok(new AlertList([.. sinks.Select(static s => s.Name)], recent));
    }

    /// <summary>The configured sinks and the recent alerts, newest first.</summary>
    public sealed record AlertList(IReadOnlyList<string> Sinks, IReadOnlyList<AlertView> Alerts);
}
