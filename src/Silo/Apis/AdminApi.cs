using System.Globalization;
using System.Text.Json;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Problems;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// Operator endpoints under <c>/admin</c>: sessions (list, detail with the audit trail, resume, end) and models.
/// Who may call them is decided by <see cref="GatewayAuthMiddleware"/> (the admin key, or loopback callers when no
/// key is configured); every group also carries <see cref="LoopbackOnly"/>, which fails closed.
/// </summary>
public static class AdminApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;
    public const int MaxNoteLength = 2000;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(LoopbackOnly);
        admin.MapGet("/sessions", ListSessionsAsync);
        admin.MapGet("/sessions/{id}", GetSessionAsync);
        admin.MapPost("/sessions/{id}/resume", ResumeSessionAsync);
        admin.MapPost("/sessions/{id}/end", EndSessionAsync);
        admin.MapGet("/models", GetModels);
        admin.MapPut("/models/{model}/faults", SetFaults);
        admin.MapDelete("/models/{model}/faults", ClearFaults);
        admin.MapBreakersAdminApi();
        return app;
    }

    /// <summary>
    /// <c>GET /admin/sessions?status=tripped&amp;limit=50&amp;cursor=…</c>: stored sessions ordered by id, a page at a
    /// time; <c>nextCursor</c> (null on the last page) asks for the next one.
    /// </summary>
    public static async Task<Results<Ok<SessionList>, ProblemHttpResult>> ListSessionsAsync(
        string? status,
        string? limit,
        string? cursor,
        ISessionCatalog catalog,
        IOptions<GovernanceOptions> governance,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        SessionStatus? filter = null;
        if (status is not null)
        {
            if (!SessionStatusNames.TryParse(status, out var parsed))
            {
                return GatewayProblem.InvalidQuery.ToResult($"'status' must be active, tripped or ended (was '{status}').");
            }

            filter = parsed;
        }

        var size = DefaultPageSize;
        if (limit is not null
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxPageSize))
        {
            return GatewayProblem.InvalidQuery.ToResult($"'limit' must be a whole number from 1 to {MaxPageSize} (was '{limit}').");
        }

        string? after = null;
        if (cursor is not null && !SessionCursor.TryDecode(cursor, out after))
        {
            return GatewayProblem.InvalidQuery.ToResult("'cursor' is not a cursor this API returned.");
        }

        var page = await catalog.ListAsync(filter, size, after, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new SessionList(
            [.. page.Items.Select(s => SessionGovernor.ViewOf(s, governance.Value, now))],
            page.NextCursor is null ? null : SessionCursor.Encode(page.NextCursor)));
    }

    /// <summary><c>GET /admin/sessions/{id}</c>: the session with its audit trail (oldest first).</summary>
    public static async Task<Results<Ok<SessionView>, ProblemHttpResult>> GetSessionAsync(string id, IGrainFactory grains)
    {
        if (!SessionIds.IsValid(id))
        {
            return InvalidSessionId();
        }

        var view = await grains.GetGrain<ISessionGrain>(id).GetAsync(withAudit: true).ConfigureAwait(false);
        return view is null ? SessionNotFound(id) : TypedResults.Ok(view);
    }

    /// <summary><c>POST /admin/sessions/{id}/resume</c> with an optional <c>{"note": "…"}</c>: clears a trip; 409 when ended.</summary>
    public static Task<Results<Ok<SessionView>, ProblemHttpResult>> ResumeSessionAsync(
        string id, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
        => OperateAsync(id, request, (note) => grains.GetGrain<ISessionGrain>(id).ResumeAsync(note), cancellationToken);

    /// <summary><c>POST /admin/sessions/{id}/end</c> with an optional <c>{"note": "…"}</c>: ends the session for good; 409 when already ended.</summary>
    public static Task<Results<Ok<SessionView>, ProblemHttpResult>> EndSessionAsync(
        string id, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
        => OperateAsync(id, request, (note) => grains.GetGrain<ISessionGrain>(id).EndAsync(note), cancellationToken);

    private static async Task<Results<Ok<SessionView>, ProblemHttpResult>> OperateAsync(
        string id,
        HttpRequest request,
        Func<string?, Task<SessionActionResult>> act,
        CancellationToken cancellationToken)
    {
        if (!SessionIds.IsValid(id))
        {
            return InvalidSessionId();
        }

        var (note, problem) = await ReadNoteAsync(request).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var result = await act(note).ConfigureAwait(false);
        if (result.Outcome == SessionActionOutcome.Busy)
        {
            request.HttpContext.Response.Headers.RetryAfter = "1";
        }

        return result.Outcome switch
        {
            SessionActionOutcome.Done => TypedResults.Ok(result.View!),
            SessionActionOutcome.Ended => GatewayProblem.SessionEnded.ToResult(
                $"Session '{id}' has been ended by an operator: it cannot be resumed or ended again."),
            SessionActionOutcome.Busy => GatewayProblem.SessionBusy.ToResult(
                $"Session '{id}' was written elsewhere at the same moment; retry shortly."),
            _ => SessionNotFound(id),
        };
    }

    /// <summary>The operator's note from an optional JSON body <c>{"note": "…"}</c> (no body: no note).</summary>
    private static async Task<(string? Note, ProblemHttpResult? Problem)> ReadNoteAsync(HttpRequest request)
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any()))
        {
            return (null, null);
        }

        if (!request.HasJsonContentType())
        {
            return (null, GatewayProblem.UnsupportedMediaType.ToResult("Send the note as JSON: {\"note\": \"…\"} with 'Content-Type: application/json'."));
        }

        var (body, problem) = await JsonBody.ReadAsync(request, NoteJson, MaxNoteBodyBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, problem);
        }

        var note = body?.Note;
        return note is { Length: > MaxNoteLength }
            ? (null, GatewayProblem.InvalidNote.ToResult($"'note' is at most {MaxNoteLength} characters (was {note.Length})."))
            : (string.IsNullOrWhiteSpace(note) ? null : note, null);
    }

    /// <summary>The body of resume and end.</summary>
    public sealed record OperatorNote(string? Note);

    /// <summary>A note's body: room for the longest note, escaped, and its braces.</summary>
    private const long MaxNoteBodyBytes = 64 * 1024;

    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<OperatorNote> NoteJson =
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<OperatorNote>)JsonSerializerOptions.Web.GetTypeInfo(typeof(OperatorNote));

    /// <summary>A page of sessions (<c>GET /admin/sessions</c>).</summary>
    public sealed record SessionList(IReadOnlyList<SessionView> Sessions, string? NextCursor);

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

    /// <summary>
    /// The endpoint filter every admin group uses (named for what it did before API keys): only callers that
    /// <see cref="GatewayAuthMiddleware"/> established as operators — the admin key, or loopback callers when no key
    /// is configured. It fails closed when the middleware did not run.
    /// </summary>
    internal static ValueTask<object?> LoopbackOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        => AuthHostingExtensions.RequireAdmin(context, next);
}
