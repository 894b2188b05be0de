using AgentGateway.Contracts.Breakers;
using AgentGateway.Silo.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// Operator endpoints for the per-model circuit breakers, mapped into the loopback-only <c>/admin</c> group:
/// read them, force one open (isolate) or closed, or reset it to a new breaker.
/// </summary>
public static class BreakersAdminApi
{
    public static RouteGroupBuilder MapBreakersAdminApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/breakers", ListBreakersAsync);
        admin.MapGet("/breakers/{model}", GetBreakerAsync);
        admin.MapPost("/breakers/{model}/isolate", IsolateBreakerAsync);
        admin.MapPost("/breakers/{model}/close", CloseBreakerAsync);
        admin.MapPost("/breakers/{model}/reset", ResetBreakerAsync);
        return admin;
    }

    public static async Task<Ok<IReadOnlyList<BreakerInfo>>> ListBreakersAsync(IModelBreakers breakers, CancellationToken cancellationToken)
        => TypedResults.Ok(await breakers.ListAsync(cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<BreakerInfo>, ProblemHttpResult>> GetBreakerAsync(
        string model, IModelBreakers breakers, CancellationToken cancellationToken)
        => Answer(model, await breakers.GetAsync(model, cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<BreakerInfo>, ProblemHttpResult>> IsolateBreakerAsync(
        string model, IModelBreakers breakers, CancellationToken cancellationToken)
        => Answer(model, await breakers.IsolateAsync(model, cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<BreakerInfo>, ProblemHttpResult>> CloseBreakerAsync(
        string model, IModelBreakers breakers, CancellationToken cancellationToken)
        => Answer(model, await breakers.CloseAsync(model, cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<BreakerInfo>, ProblemHttpResult>> ResetBreakerAsync(
        string model, IModelBreakers breakers, CancellationToken cancellationToken)
        => Answer(model, await breakers.ResetAsync(model, cancellationToken).ConfigureAwait(false));

    private static Results<Ok<BreakerInfo>, ProblemHttpResult> Answer(string model, BreakerInfo? breaker) =>
        breaker is null
            ? GatewayProblem.UnknownModel.ToResult($"Model '{model}' is not served by this gateway, so it has no breaker.")
            : TypedResults.Ok(breaker);
}
