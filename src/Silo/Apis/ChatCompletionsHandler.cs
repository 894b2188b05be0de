using System.Globalization;
using AgentGateway.Contracts.Limits;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.OpenAi;
using AgentGateway.Silo.Pipeline;
using AgentGateway.Silo.Problems;
using AgentGateway.Silo.Routing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// <c>POST /v1/chat/completions</c> as a transport of the governed-call pipeline (<see cref="GovernedCalls"/>): it
/// validates the OpenAI request, hands it to the pipeline, and frames what comes back as a <c>chat.completion</c>
/// (JSON) or as <c>chat.completion.chunk</c> events (SSE). Governance, routing and metering are the pipeline's.
/// </summary>
public sealed class ChatCompletionsHandler(GovernedCalls calls, ModelCatalog models, IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        // Set by GatewayAuthMiddleware; without it nobody may drive a session (fail closed).
        if (context.GetCaller() is not { Tenant: { } tenant })
        {
            return GatewayProblem.ApiForbidden.ToResult("The caller has no tenant.");
        }

        var sessionId = context.Request.Headers[SessionIds.Header].ToString();
        if (sessionId.Length == 0)
        {
            sessionId = SessionIds.New();
        }
        else if (!SessionIds.IsValid(sessionId))
        {
            return GatewayProblem.InvalidSessionId.ToResult(
                $"{SessionIds.Header} must be 1 to {SessionIds.MaxLength} characters of letters, digits and . _ : -");
        }

        context.Response.Headers[SessionIds.Header] = sessionId;
        if (!context.Request.HasJsonContentType())
        {
            return GatewayProblem.UnsupportedMediaType.ToResult(
                $"Send the body as JSON with 'Content-Type: application/json' (got '{context.Request.ContentType}').");
        }

        var (request, problem) = await JsonBody.ReadAsync(context.Request, OpenAiJsonContext.Default.ChatCompletionRequest, _options.MaxRequestBodyBytes)
            .ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (request is null)
        {
            return GatewayProblem.InvalidJson.ToResult("The body is JSON null; expected a chat completion request object.");
        }

        if (string.IsNullOrWhiteSpace(request.Model))
        {
            return GatewayProblem.MissingModel.ToResult("'model' is required.");
        }

        if (!models.TryGet(request.Model, out var model))
        {
            return GatewayProblem.UnknownModel.ToResult(
                $"Model '{request.Model}' is not served here. Served models: {string.Join(", ", models.Models.Select(m => m.Name))}.");
        }

        if (!ChatRequestMapper.TryMap(request, model.Name, out var mapped, out var invalid))
        {
            return invalid.Problem.ToResult(invalid.Detail);
        }

        // The tenant's limits come before the session's governance, so a refused request counts no loop.
        var (charge, limit) = await calls.ChargeTenantAsync(tenant, mapped.Turn.EstimatedInputTokens, enforce: true, context.RequestAborted)
            .ConfigureAwait(false);
        if (!limit.Allowed)
        {
            return RateLimited(context, tenant, limit);
        }

        var admitted = await calls.AdmitAsync(new GovernedCall(sessionId, tenant, model, mapped.Messages, mapped.Options, mapped.Turn), charge)
            .ConfigureAwait(false);
        switch (admitted.Outcome)
        {
            case AdmissionOutcome.Forbidden:
                return SessionForbidden(sessionId);
            case AdmissionOutcome.Busy:
                // Nothing was decided (another writer moved the session on): the client may retry at once.
                context.Response.Headers.RetryAfter = "1";
                return GatewayProblem.SessionBusy.ToResult($"Session '{sessionId}' was written elsewhere at the same moment; retry shortly.");
        }

        var headers = context.Response.Headers;
        headers[GatewayHeaders.LoopCount] = admitted.Admission.LoopCount.ToString(CultureInfo.InvariantCulture);
        var id = "chatcmpl-" + Guid.CreateVersion7().ToString("N");
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        if (admitted.Outcome == AdmissionOutcome.Refused)
        {
            headers[GatewayHeaders.Trip] = admitted.Admission.TripReason.ToWireName();
            return await AnswerAsync(context, request, id, created, Routes.Deterministic, model.Name, _options.FallbackMessage).ConfigureAwait(false);
        }

        if (!request.Stream)
        {
            var result = await calls.CompleteAsync(admitted, context.RequestAborted).ConfigureAwait(false);
            MarkUpstreamStatus(headers, result);
            return result.IsGatewayAnswer
                ? await AnswerAsync(context, request, id, created, result.Route, result.Model, GatewayText(result)).ConfigureAwait(false)
                : Completion(headers, id, created, result);
        }

        var sink = new SseCallSink(context.Response, id, created, request.StreamOptions?.IncludeUsage == true);
        var streamed = await calls.StreamAsync(admitted, sink, context.RequestAborted).ConfigureAwait(false);
        MarkUpstreamStatus(headers, streamed);
        if (streamed.IsGatewayAnswer)
        {
            await sink.WriteTextAnswerAsync(streamed.Route, streamed.Model, GatewayText(streamed), context.RequestAborted).ConfigureAwait(false);
        }
        else if (streamed.Outcome != CallOutcome.Cancelled)
        {
            await sink.EndAsync(streamed, _options.FallbackMessage).ConfigureAwait(false);
        }

        return Results.Empty;
    }

    /// <summary>
    /// Another tenant owns the session. 403 rather than 404: sessions are made by use, so any refusal here tells the
    /// caller the id is taken; 404 would only pretend otherwise. The owner is not named.
    /// </summary>
    public static ProblemHttpResult SessionForbidden(string sessionId) =>
        GatewayProblem.SessionForbidden.ToResult($"Session '{sessionId}' belongs to another tenant; use a session id of your own.");

    /// <summary>429 <c>rate-limited</c> with <c>Retry-After</c> in whole seconds (rounded up, at least 1).</summary>
    private static ProblemHttpResult RateLimited(HttpContext context, string tenant, RateLimitDecision decision)
    {
        var seconds = decision.RetryAfterSeconds;
        var limit = decision.LimitName ?? "requests";
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return GatewayProblem.RateLimited.ToResult(
            $"Tenant '{tenant}' is over its {limit}-per-minute limit; retry after {seconds} s.",
            new Dictionary<string, object?>(StringComparer.Ordinal) { ["limit"] = limit, ["retry_after"] = seconds });
    }

    private string GatewayText(CallResult result) => result.Outcome == CallOutcome.Fallback ? _options.FallbackMessage : result.Text;

    private static void MarkUpstreamStatus(IHeaderDictionary headers, CallResult result)
    {
        if (result.UpstreamStatus is { } status)
        {
            headers[GatewayHeaders.UpstreamStatus] = status.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static CompletionResult Completion(IHeaderDictionary headers, string id, long created, CallResult result)
    {
        headers[GatewayHeaders.Route] = result.Route;
        var toolCalls = result.ToolCalls.Count > 0 ? result.ToolCalls : null;
        return new CompletionResult(new CompletionPayload(
            id,
            created,
            result.Model,
            result.Text.Length == 0 && toolCalls is not null ? null : result.Text,
            toolCalls,
            result.FinishReason,
            result.InputTokens,
            result.OutputTokens));
    }

    /// <summary>An answer the gateway gives itself (no model's): HTTP 200, the text, <c>finish_reason: "stop"</c>, as JSON or SSE.</summary>
    private static async Task<IResult> AnswerAsync(
        HttpContext context, ChatCompletionRequest request, string id, long created, string route, string model, string text)
    {
        if (!request.Stream)
        {
            context.Response.Headers[GatewayHeaders.Route] = route;
            return new CompletionResult(new CompletionPayload(id, created, model, text, null, "stop", 0, 0));
        }

        var sink = new SseCallSink(context.Response, id, created, request.StreamOptions?.IncludeUsage == true);
        await sink.WriteTextAnswerAsync(route, model, text, context.RequestAborted).ConfigureAwait(false);
        return Results.Empty;
    }

    /// <summary>Writes a completion as JSON straight into the response buffer.</summary>
    private sealed class CompletionResult(CompletionPayload payload) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json";
            ChatCompletionWriter.WriteCompletion(httpContext.Response.BodyWriter, payload);
            return httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted).AsTask();
        }
    }
}
