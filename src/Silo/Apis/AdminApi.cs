using System.Net;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// Operator endpoints under <c>/admin</c>. Until admin authentication lands they answer loopback callers
/// only; any other caller gets 403 <c>admin-forbidden</c>.
/// </summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(LoopbackOnly);
        admin.MapGet("/sessions/{id}", GetSessionAsync);
        admin.MapPost("/sessions/{id}/resume", ResumeSessionAsync);
        admin.MapGet("/models", GetModels);
        admin.MapPut("/models/{model}/faults", SetFaults);
        admin.MapDelete("/models/{model}/faults", ClearFaults);
        admin.MapBreakersAdminApi();
        return app;
    }

    public static async Task<Results<Ok<SessionView>, ProblemHttpResult>> GetSessionAsync(
        string id, ISessionService sessions, CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(id))
        {
            return InvalidSessionId();
        }

        var view = await sessions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return view is null ? SessionNotFound(id) : TypedResults.Ok(view);
    }

    public static async Task<Results<Ok<SessionView>, ProblemHttpResult>> ResumeSessionAsync(
        string id, ISessionService sessions, CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(id))
        {
            return InvalidSessionId();
        }

        var view = await sessions.ResumeAsync(id, cancellationToken).ConfigureAwait(false);
        return view is null ? SessionNotFound(id) : TypedResults.Ok(view);
    }

    public static Ok<ModelStats[]> GetModels(ModelCatalog models) => TypedResults.Ok(
        models.AllEntries.Select(m => m.Client is SimulatedChatClient sim
                ? new ModelStats(m.Name, m.Provider, sim.Calls, sim.Failures, sim.Cancellations, sim.Faults)
                : new ModelStats(m.Name, m.Provider, null, null, null, null))
            .ToArray());

    /// <summary>Fault injection: sets run-time faults on a simulated model (replacing any before).</summary>
    public static Results<Ok<SimulatedFaults>, ProblemHttpResult> SetFaults(string model, SimulatedFaults faults, ModelCatalog models)
    {
        if (FindSimulated(model, models, out var problem) is not { } sim)
        {
            return problem!;
        }

        var problems = faults.Problems().ToArray();
        if (problems.Length > 0)
        {
            return GatewayProblem.InvalidFaults.ToResult(string.Join(" ", problems));
        }

        sim.Faults = faults;
        return TypedResults.Ok(faults);
    }

    /// <summary>Fault injection: removes a simulated model's run-time faults.</summary>
    public static Results<NoContent, ProblemHttpResult> ClearFaults(string model, ModelCatalog models)
    {
        if (FindSimulated(model, models, out var problem) is not { } sim)
        {
            return problem!;
        }

        sim.Faults = null;
        return TypedResults.NoContent();
    }

    /// <summary>A model's served-call counts and run-time faults (known for the simulated provider).</summary>
    public sealed record ModelStats(string Name, string Provider, long? Calls, long? Failures, long? Cancellations, SimulatedFaults? Faults);

    private static SimulatedChatClient? FindSimulated(string model, ModelCatalog models, out ProblemHttpResult? problem)
    {
        problem = null;
        if (!models.TryGetAny(model, out var entry))
        {
            problem = GatewayProblem.UnknownModel.ToResult($"Model '{model}' is not served here.");
            return null;
        }

        if (entry.Client is not SimulatedChatClient sim)
        {
            problem = GatewayProblem.InvalidFaults.ToResult($"Model '{entry.Name}' is served by '{entry.Provider}': faults can be injected into simulated models only.");
            return null;
        }

        return sim;
    }

    private static ProblemHttpResult InvalidSessionId() => GatewayProblem.InvalidSessionId.ToResult(
        $"A session id is 1 to {SessionIds.MaxLength} characters of letters, digits and . _ : -");

    private static ProblemHttpResult SessionNotFound(string id) =>
        GatewayProblem.SessionNotFound.ToResult($"Session '{id}' has never called a model through this gateway.");

    /// <summary>The endpoint filter every admin group uses: loopback callers only, others get 403 <c>admin-forbidden</c>.</summary>
    internal static async ValueTask<object?> LoopbackOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var remote = context.HttpContext.Connection.RemoteIpAddress;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        if (remote is null || !IPAddress.IsLoopback(remote))
        {
            return GatewayProblem.AdminForbidden.ToResult(
                $"Admin endpoints answer loopback callers only until admin authentication is configured (caller: {remote?.ToString() ?? "unknown"}).");
        }

        return await next(context).ConfigureAwait(false);
    }
}
