using System.Buffers;
using System.Text;
using System.Text.Json;
using AgentGateway.Contracts.Limits;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Limits;
using AgentGateway.Silo.OpenAi;
using AgentGateway.Silo.Problems;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Streaming;
using AgentGateway.Silo.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// <c>POST /v1/chat/completions</c>: validate, check the tenant's rate limits, ask the session actor for admission
/// (one turn that checks and counts), answer from the cache or call the model (or answer with the fallback), then
/// report the real usage one-way.
/// </summary>
public sealed partial class ChatCompletionsHandler(
    IGrainFactory grains,
    ModelCatalog models,
    ModelRouter router,
    AnswerCache cache,
    TenantRateLimits limits,
    IOptions<GatewayOptions> options,
    IOptions<GovernanceOptions> governance,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<ChatCompletionsHandler> logger)
{
    private readonly GatewayOptions _options = options.Value;
    private readonly int _grantTokens = governance.Value.StreamGrantTokens;

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

        var (request, problem) = await ReadRequestAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(request!.Model))
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
        var charge = new TenantCharge(tenant, mapped.Turn.EstimatedInputTokens);
        var limit = await limits.TryAcquireAsync(tenant, charge.EstimatedTokens, context.RequestAborted).ConfigureAwait(false);
        if (!limit.Allowed)
        {
            return RateLimited(context, tenant, limit);
        }

        var session = grains.GetGrain<ISessionGrain>(sessionId);
        var admission = await session.AdmitAsync(mapped.Turn with { Tenant = tenant }).ConfigureAwait(false);
        if (admission.Busy)
        {
            // Nothing was decided (another writer moved the session on): the client may retry at once.
            await SettleTenantAsync(charge, 0, 0).ConfigureAwait(false);
            context.Response.Headers.RetryAfter = "1";
            return GatewayProblem.SessionBusy.ToResult($"Session '{sessionId}' was written elsewhere at the same moment; retry shortly.");
        }

        if (admission.Forbidden)
        {
            await SettleTenantAsync(charge, 0, 0).ConfigureAwait(false);
            return SessionForbidden(sessionId);
        }

        context.Response.Headers[GatewayHeaders.LoopCount] = admission.LoopCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!admission.Allowed)
        {
            var reason = admission.TripReason.ToWireName()!;
            context.Response.Headers[GatewayHeaders.Trip] = reason;
            if (admission.NewlyTripped)
            {
                metrics.Tripped(reason);
            }

            LogRefused(sessionId, reason);
            await SettleTenantAsync(charge, 0, 0).ConfigureAwait(false);
            return await AnswerWithFallbackAsync(context, request, model.Name).ConfigureAwait(false);
        }

        // Admitted (the loop is counted, so an agent looping on cache hits still trips): a stored answer to the same
        // conversation is served without a model call and costs no model tokens (the reservations are given back).
        var cacheKey = cache.KeyFor(model.Name, mapped.Messages, mapped.Options.Tools);
        if (await cache.FindAsync(cacheKey, context.RequestAborted).ConfigureAwait(false) is { } hit)
        {
            Settle(session, new CallSettlement(admission.ReservedInputTokens, 0, 0));
            await SettleTenantAsync(charge, 0, 0).ConfigureAwait(false);
            return await AnswerWithTextAsync(context, request, hit.Model, hit.Text, Routes.Cache).ConfigureAwait(false);
        }

        return request.Stream
            ? await StreamAsync(context, request, model, mapped, sessionId, session, admission, charge, cacheKey).ConfigureAwait(false)
            : await CompleteAsync(context, request, model, mapped, session, admission, charge, cacheKey).ConfigureAwait(false);
    }

    /// <summary>429 <c>rate-limited</c> with <c>Retry-After</c> in whole seconds (rounded up, at least 1).</summary>
    private IResult RateLimited(HttpContext context, string tenant, RateLimitDecision decision)
    {
        var seconds = decision.RetryAfterSeconds;
        var limit = decision.LimitName ?? "requests";
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        LogRateLimited(tenant, limit, seconds);
        return GatewayProblem.RateLimited.ToResult(
            $"Tenant '{tenant}' is over its {limit}-per-minute limit; retry after {seconds} s.",
            new Dictionary<string, object?>(StringComparer.Ordinal) { ["limit"] = limit, ["retry_after"] = seconds });
    }

    /// <summary>Settles the tenant's token charge (its limiter never throws; a client gone does not skip it).</summary>
    private ValueTask SettleTenantAsync(TenantCharge charge, long input, long output) =>
        limits.SettleAsync(charge.Tenant, charge.EstimatedTokens, input, output, CancellationToken.None);

    /// <summary>Who pays a request's tokens under the rate limits, and the estimate charged at admission.</summary>
    private readonly record struct TenantCharge(string Tenant, long EstimatedTokens);

    private async ValueTask<(ChatCompletionRequest? Request, IResult? Problem)> ReadRequestAsync(HttpContext context)
    {
        if (!context.Request.HasJsonContentType())
        {
            return (null, GatewayProblem.UnsupportedMediaType.ToResult(
                $"Send the body as JSON with 'Content-Type: application/json' (got '{context.Request.ContentType}')."));
        }

        if (context.Request.ContentLength > _options.MaxRequestBodyBytes)
        {
            return (null, BodyTooLarge());
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _options.MaxRequestBodyBytes;
        }

        try
        {
            var request = await JsonSerializer.DeserializeAsync(
                context.Request.Body,
                OpenAiJsonContext.Default.ChatCompletionRequest,
                context.RequestAborted).ConfigureAwait(false);
            return request is null
                ? (null, GatewayProblem.InvalidJson.ToResult("The body is JSON null; expected a chat completion request object."))
                : (request, null);
        }
        catch (JsonException ex)
        {
            return (null, GatewayProblem.InvalidJson.ToResult(ex.Message));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, BodyTooLarge());
        }
        catch (BadHttpRequestException ex)
        {
            return (null, GatewayProblem.BadRequest.ToResult(ex.Message));
        }
    }

    /// <summary>
    /// Another tenant owns the session. 403 rather than 404: sessions are made by use, so any refusal here tells the
    /// caller the id is taken; 404 would only pretend otherwise. The owner is not named.
    /// </summary>
    public static ProblemHttpResult SessionForbidden(string sessionId) =>
        GatewayProblem.SessionForbidden.ToResult($"Session '{sessionId}' belongs to another tenant; use a session id of your own.");

    private IResult BodyTooLarge() => GatewayProblem.BodyTooLarge.ToResult(
        $"The body is over the limit of {_options.MaxRequestBodyBytes} bytes (Gateway:MaxRequestBodyBytes).");

    private async Task<IResult> CompleteAsync(
        HttpContext context,
        ChatCompletionRequest request,
        ModelEntry model,
        MappedChatRequest mapped,
        ISessionGrain session,
        Admission admission,
        TenantCharge charge,
        string? cacheKey)
    {
        var routed = await router.CompleteAsync(model, mapped.Messages, mapped.Options, context.RequestAborted).ConfigureAwait(false);
        if (routed.Response is not { } response)
        {
            // Every route failed: the call keeps its reservation (it was made); the client gets the fallback, never a raw 5xx.
            return await ModelFailedAsync(context, request, model, cacheKey, routed.UpstreamStatus).ConfigureAwait(false);
        }

        var input = response.Usage?.InputTokenCount ?? admission.ReservedInputTokens;
        var output = response.Usage?.OutputTokenCount ?? 0;
        Settle(session, new CallSettlement(admission.ReservedInputTokens, input, output));
        await SettleTenantAsync(charge, input, output).ConfigureAwait(false);
        metrics.ModelCall(routed.Model!, "ok");

        var message = response.Messages.LastOrDefault(m => m.Role == ChatRole.Assistant);
        var toolCalls = message?.Contents.OfType<FunctionCallContent>().ToList();
        var text = message?.Text;
        if (AnswerCache.IsCacheable(routed.Route, response.FinishReason?.Value, toolCalls is { Count: > 0 }, text))
        {
            await cache.StoreAsync(cacheKey, routed.Model!, text!, context.RequestAborted).ConfigureAwait(false);
        }

        var payload = new CompletionPayload(
            CompletionId(),
            time.GetUtcNow().ToUnixTimeSeconds(),
            routed.Model!,
            string.IsNullOrEmpty(text) && toolCalls is { Count: > 0 } ? null : text ?? string.Empty,
            toolCalls,
            ChatCompletionWriter.FinishReasonOf(response.FinishReason, toolCalls is { Count: > 0 }),
            input,
            output);
        metrics.Answered(routed.Route);
        context.Response.Headers[GatewayHeaders.Route] = routed.Route;
        return new CompletionResult(payload);
    }

    private async Task<IResult> StreamAsync(
        HttpContext context,
        ChatCompletionRequest request,
        ModelEntry model,
        MappedChatRequest mapped,
        string sessionId,
        ISessionGrain session,
        Admission admission,
        TenantCharge charge,
        string? cacheKey)
    {
        var aborted = context.RequestAborted;
        var (stream, upstreamStatus) = await router.OpenStreamAsync(model, mapped.Messages, mapped.Options, aborted).ConfigureAwait(false);
        if (stream is null)
        {
            return await ModelFailedAsync(context, request, model, cacheKey, upstreamStatus).ConfigureAwait(false);
        }

        await using var _ = stream.ConfigureAwait(false);
        var updates = stream.Updates;
        var more = stream.HasFirst;
        var response = context.Response;
        response.Headers[GatewayHeaders.Route] = stream.Route;
        StartEventStream(response);
        var id = CompletionId();
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var first = true;
        long? input = null, output = null;
        var meter = new TokenMeter(session, admission, _grantTokens, model.Name);
        string? finish = null;
        var toolCalls = 0;
        var answer = new StringBuilder();
        try
        {
            while (more)
            {
                var update = updates.Current;
                var part = StreamedUpdate.Read(update);
                input = part.InputTokens ?? input;
                output = part.OutputTokens ?? output;
                var (text, calls) = (part.Text, part.ToolCalls);
                if (part.HasContent)
                {
                    if (!await meter.TryPassAsync(part.Tokens, aborted).ConfigureAwait(false))
                    {
                        var cut = await CutOffAsync(response, request, stream, meter, sessionId, session, id, created, first).ConfigureAwait(false);
                        await SettleTenantAsync(charge, cut.InputTokens, cut.OutputTokens).ConfigureAwait(false);
                        return Results.Empty;
                    }

                    ChatCompletionWriter.WriteChunk(
                        response.BodyWriter,
                        new CompletionPayload(id, created, stream.Model, text, calls, null, null, null),
                        role: first,
                        firstToolCallIndex: toolCalls);
                    toolCalls += calls?.Count ?? 0;
                    answer.Append(text);
                    first = false;
                    await response.BodyWriter.FlushAsync(aborted).ConfigureAwait(false);
                }

                if (update.FinishReason is { } reason)
                {
                    finish = ChatCompletionWriter.FinishReasonOf(reason, toolCalls > 0);
                }

                more = await updates.MoveNextAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The stream has begun: nothing may be retried or replaced; end it with an error event.
            LogStreamFailed(sessionId, stream.Model, ex);
            metrics.ModelCall(stream.Model, "failed_mid_stream");
            await stream.FailAsync(ex).ConfigureAwait(false);
            var failed = meter.Settlement(input, output);
            Settle(session, failed);
            await SettleTenantAsync(charge, failed.InputTokens, failed.OutputTokens).ConfigureAwait(false);
            WriteStreamError(response, ex);
            await response.BodyWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return Results.Empty;
        }
        catch (OperationCanceledException)
        {
            // The client went away: charge what was produced so far.
            metrics.ModelCall(stream.Model, "cancelled");
            var cancelled = meter.Settlement(input, output);
            Settle(session, cancelled);
            await SettleTenantAsync(charge, cancelled.InputTokens, cancelled.OutputTokens).ConfigureAwait(false);
            throw;
        }

        var settlement = meter.Settlement(input, output);
        Settle(session, settlement);
        await SettleTenantAsync(charge, settlement.InputTokens, settlement.OutputTokens).ConfigureAwait(false);
        metrics.ModelCall(stream.Model, "ok");
        await stream.CompleteAsync(StatusCodes.Status200OK).ConfigureAwait(false);
        finish ??= ChatCompletionWriter.FinishReasonOf(null, toolCalls > 0);
        if (AnswerCache.IsCacheable(stream.Route, finish, toolCalls > 0, answer.ToString()))
        {
            await cache.StoreAsync(cacheKey, stream.Model, answer.ToString(), aborted).ConfigureAwait(false);
        }

        await EndStreamAsync(response, request, stream, id, created, first, finish, settlement, cutOff: null, aborted).ConfigureAwait(false);
        return Results.Empty;
    }

    /// <summary>
    /// The live cut-off: the chunk in hand did not fit in the session's budget (the session has tripped). The
    /// upstream call is cancelled, the chunk is dropped, and the stream ends with <c>finish_reason: "length"</c>
    /// and the gateway's note of the trip.
    /// </summary>
    private async Task<CallSettlement> CutOffAsync(
        HttpResponse response, ChatCompletionRequest request, RoutedStream stream, TokenMeter meter, string sessionId, ISessionGrain session, string id, long created, bool first)
    {
        await stream.CancelAsync().ConfigureAwait(false);
        var reason = meter.CutOff.ToWireName()!;
        if (meter.NewlyTripped)
        {
            metrics.Tripped(reason);
        }

        metrics.ModelCall(stream.Model, "cut_off");
        var settlement = meter.Settlement(null, null);
        Settle(session, settlement);
        LogCutOff(sessionId, stream.Model, reason, meter.Delivered);
        await EndStreamAsync(response, request, stream, id, created, first, "length", settlement, (reason, _options.FallbackMessage), CancellationToken.None)
            .ConfigureAwait(false);
        return settlement;
    }

    /// <summary>The stream's last chunks: the finish reason (with a cut-off's note), usage when asked for, then <c>[DONE]</c>.</summary>
    private async Task EndStreamAsync(
        HttpResponse response,
        ChatCompletionRequest request,
        RoutedStream stream,
        string id,
        long created,
        bool first,
        string finish,
        CallSettlement settlement,
        (string Trip, string Fallback)? cutOff,
        CancellationToken cancellationToken)
    {
        ChatCompletionWriter.WriteChunk(
            response.BodyWriter,
            new CompletionPayload(id, created, stream.Model, null, null, finish, null, null),
            role: first,
            cutOff: cutOff);
        if (request.StreamOptions?.IncludeUsage == true)
        {
            ChatCompletionWriter.WriteChunk(
                response.BodyWriter,
                new CompletionPayload(id, created, stream.Model, null, null, null, settlement.InputTokens, settlement.OutputTokens),
                role: false,
                usageOnly: true);
        }

        ChatCompletionWriter.WriteDone(response.BodyWriter);
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        metrics.Answered(stream.Route);
    }

    /// <summary>No model could answer: a cached answer to the same conversation if there is one, else the deterministic text.</summary>
    private async Task<IResult> ModelFailedAsync(HttpContext context, ChatCompletionRequest request, ModelEntry model, string? cacheKey, int? upstreamStatus)
    {
        if (upstreamStatus is { } status)
        {
            context.Response.Headers[GatewayHeaders.UpstreamStatus] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        LogNoRoute(model.Name, upstreamStatus ?? 0);
        // Looked up before the call too; this finds an answer another request stored meanwhile (on any node).
        if (await cache.FindAsync(cacheKey, context.RequestAborted).ConfigureAwait(false) is { } cached)
        {
            return await AnswerWithTextAsync(context, request, cached.Model, cached.Text, Routes.Cache).ConfigureAwait(false);
        }

        return await AnswerWithFallbackAsync(context, request, model.Name).ConfigureAwait(false);
    }

    /// <summary>The deterministic answer: HTTP 200, the fallback text, <c>finish_reason: "stop"</c>, no tool calls.</summary>
    private Task<IResult> AnswerWithFallbackAsync(HttpContext context, ChatCompletionRequest request, string model)
        => AnswerWithTextAsync(context, request, model, _options.FallbackMessage, Routes.Deterministic);

    /// <summary>An answer the gateway gives itself (no model call): HTTP 200, the text, <c>finish_reason: "stop"</c>.</summary>
    private async Task<IResult> AnswerWithTextAsync(HttpContext context, ChatCompletionRequest request, string model, string text, string route)
    {
        context.Response.Headers[GatewayHeaders.Route] = route;
        metrics.Answered(route);
        var payload = new CompletionPayload(
            CompletionId(),
            time.GetUtcNow().ToUnixTimeSeconds(),
            model,
            text,
            null,
            "stop",
            0,
            0);
        if (!request.Stream)
        {
            return new CompletionResult(payload);
        }

        var response = context.Response;
        StartEventStream(response);
        ChatCompletionWriter.WriteChunk(response.BodyWriter, payload with { FinishReason = null }, role: true);
        ChatCompletionWriter.WriteChunk(response.BodyWriter, payload with { Text = null }, role: false);
        if (request.StreamOptions?.IncludeUsage == true)
        {
            ChatCompletionWriter.WriteChunk(response.BodyWriter, payload, role: false, usageOnly: true);
        }

        ChatCompletionWriter.WriteDone(response.BodyWriter);
        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        return Results.Empty;
    }

    private void Settle(ISessionGrain session, CallSettlement settlement)
    {
        metrics.Tokens(settlement.InputTokens, settlement.OutputTokens);
        _ = session.SettleAsync(settlement);
    }

    private static void StartEventStream(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    private static void WriteStreamError(HttpResponse response, Exception ex)
    {
        var status = ex is ModelCallException failed ? failed.StatusCode : StatusCodes.Status502BadGateway;
        response.BodyWriter.Write("data: "u8);
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", $"The model failed mid-stream (status {status}).");
            json.WriteString("type", "server_error");
            json.WriteString("code", "model-failed-mid-stream");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        response.BodyWriter.Write("\n\n"u8);
        ChatCompletionWriter.WriteDone(response.BodyWriter);
    }

    private static string CompletionId() => "chatcmpl-" + Guid.CreateVersion7().ToString("N");

    [LoggerMessage(200, LogLevel.Debug, "Session {SessionId} refused: {TripReason}")]
    private partial void LogRefused(string sessionId, string tripReason);

    [LoggerMessage(201, LogLevel.Warning, "No route answered for model {Model} (last upstream status {Status}); answered with the fallback")]
    private partial void LogNoRoute(string model, int status);

    [LoggerMessage(202, LogLevel.Warning, "Session {SessionId}: model {Model} failed mid-stream")]
    private partial void LogStreamFailed(string sessionId, string model, Exception exception);

    [LoggerMessage(204, LogLevel.Warning, "Session {SessionId}: stream from {Model} cut off ({TripReason}) after {Delivered} tokens")]
    private partial void LogCutOff(string sessionId, string model, string tripReason, long delivered);

    [LoggerMessage(205, LogLevel.Information, "Tenant {Tenant} over its {Limit}-per-minute limit; retry after {Seconds} s")]
    private partial void LogRateLimited(string tenant, string limit, long seconds);

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
