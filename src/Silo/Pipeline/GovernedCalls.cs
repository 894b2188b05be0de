using AgentGateway.Contracts.Limits;
using AgentGateway.Contracts.Logging;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains;
using AgentGateway.Silo.Limits;
using AgentGateway.Silo.OpenAi;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Streaming;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Pipeline;

/// <summary>
/// The one request pipeline every transport uses (<c>/v1/chat/completions</c> as JSON or SSE, the WebSocket chat):
/// the tenant's limits, admission by the session's grain, the answer cache, the model call through the router (or its
/// stream, metered chunk by chunk), then the settlement of the real usage. The transports only frame what it returns.
/// </summary>
/// <remarks>
/// A non-streamed call awaits one grain call (the admission); the settlement is one-way. A stream also asks the grain
/// for a grant every <see cref="GovernanceOptions.StreamGrantTokens"/> tokens. A model failure never reaches the
/// transport as an error: the answer is then a cached one or the deterministic fallback.
/// </remarks>
public sealed partial class GovernedCalls(
    GrainReferences<ISessionGrain> sessions,
    TenantRateLimits limits,
    AnswerCache cache,
    ModelRouter router,
    IOptions<GovernanceOptions> governance,
    GatewayMetrics metrics,
    ILogger<GovernedCalls> logger)
{
    private readonly int _grantTokens = governance.Value.StreamGrantTokens;

    /// <summary>
    /// The tenant's limits: with <paramref name="enforce"/> a call over them is refused (nothing charged); without, the
    /// tokens are charged all the same (a task's later calls, which must not leave it half-way).
    /// </summary>
    public async ValueTask<(TenantCharge Charge, RateLimitDecision Decision)> ChargeTenantAsync(
        string? tenant, long tokens, bool enforce, CancellationToken cancellationToken)
    {
        if (tenant is null)
        {
            return (TenantCharge.None, RateLimitDecision.Admitted);
        }

        if (!enforce)
        {
            await limits.SettleAsync(tenant, 0, tokens, 0, CancellationToken.None).ConfigureAwait(false);
            return (new TenantCharge(tenant, tokens), RateLimitDecision.Admitted);
        }

        var decision = await limits.TryAcquireAsync(tenant, tokens, cancellationToken).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            LogRateLimited(tenant, decision.LimitName ?? "requests", decision.RetryAfterSeconds);
        }

        return (decision.Allowed ? new TenantCharge(tenant, tokens) : TenantCharge.None, decision);
    }

    /// <summary>Gives a call's tenant charge back (a call that was not made, or a cache hit).</summary>
    public ValueTask RefundTenantAsync(TenantCharge charge) => SettleTenantAsync(charge, 0, 0);

    /// <summary>
    /// Asks the session's grain to admit the call (one turn that checks and counts; asked once more when the store
    /// refused its write). A call that is not admitted gives the tenant's charge back; a trip it caused is counted.
    /// </summary>
    public async Task<AdmittedCall> AdmitAsync(GovernedCall call, TenantCharge charge)
    {
        var session = sessions.Get(call.SessionId);
        var turn = call.Turn with { Tenant = call.Tenant, Model = call.Model.Name };
        var admission = await session.AdmitAsync(turn).ConfigureAwait(false);
        if (admission.Busy)
        {
            // Another writer had moved the stored session on; the grain dropped its stale activation, so a second ask
            // is decided on the stored state. Only contention that outlasts it reaches the client (session-busy).
            admission = await session.AdmitAsync(turn).ConfigureAwait(false);
        }
        if (admission.Allowed)
        {
            return new AdmittedCall(call, session, admission, charge, cache.KeyFor(call.Model.Name, call.Messages, call.Options.Tools));
        }

        await RefundTenantAsync(charge).ConfigureAwait(false);
        if (admission.TripReason.ToWireName() is { } reason)
        {
            if (admission.NewlyTripped)
            {
                metrics.Tripped(reason);
            }

            LogRefused(call.SessionId, reason);
            metrics.Answered(Routes.Deterministic);
        }

        return new AdmittedCall(call, session, admission, TenantCharge.None, null);
    }

    /// <summary>A non-streamed call: the cache, else the model (or its fallback chain), then the settlement.</summary>
    public async Task<CallResult> CompleteAsync(AdmittedCall admitted, CancellationToken cancellationToken)
    {
        if (await FromCacheAsync(admitted, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return cached;
        }

        var call = admitted.Call;
        var routed = await router.CompleteAsync(call.Model, call.Messages, call.Options, cancellationToken).ConfigureAwait(false);
        if (routed.Response is not { } response)
        {
            return await NoRouteAsync(admitted, routed.UpstreamStatus, cancellationToken).ConfigureAwait(false);
        }

        var reserved = admitted.Admission.ReservedInputTokens;
        var input = response.Usage?.InputTokenCount ?? reserved;
        var output = response.Usage?.OutputTokenCount ?? 0;
        await SettleAsync(admitted, new CallSettlement(reserved, input, output)).ConfigureAwait(false);
        metrics.ModelCall(routed.Model!, "ok");

        var message = response.Messages.LastOrDefault(m => m.Role == ChatRole.Assistant);
        IReadOnlyList<FunctionCallContent> toolCalls = message?.Contents.OfType<FunctionCallContent>().ToList() ?? [];
        var text = message?.Text ?? string.Empty;
        var finish = ChatCompletionWriter.FinishReasonOf(response.FinishReason, toolCalls.Count > 0);
        await StoreIfCacheableAsync(admitted, routed.Route, routed.Model!, finish, toolCalls.Count > 0, text, cancellationToken).ConfigureAwait(false);
        metrics.Answered(routed.Route);
        return new CallResult(CallOutcome.Answered, routed.Route, routed.Model!, text, toolCalls, finish, input, output);
    }

    /// <summary>
    /// A streamed call: the cache, else a stream opened on the first route that yields, each chunk paid for from the
    /// session's grants before <paramref name="sink"/> sees it, then the settlement. The chunk that does not fit is
    /// dropped and the upstream call cancelled (the live cut-off).
    /// </summary>
    public async Task<CallResult> StreamAsync(AdmittedCall admitted, ICallSink sink, CancellationToken cancellationToken)
    {
        if (await FromCacheAsync(admitted, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return cached;
        }

        var call = admitted.Call;
        var (stream, upstreamStatus) = await router.OpenStreamAsync(call.Model, call.Messages, call.Options, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return await NoRouteAsync(admitted, upstreamStatus, cancellationToken).ConfigureAwait(false);
        }

        await using var _ = stream.ConfigureAwait(false);
        var metered = new MeteredStream(stream, new TokenMeter(admitted.Session, admitted.Admission, _grantTokens, call.Model.Name));
        await sink.StartAsync(stream.Route, stream.Model, cancellationToken).ConfigureAwait(false);
        var (end, failure) = await metered.PumpAsync(sink, cancellationToken).ConfigureAwait(false);
        var settlement = metered.Settlement(end);
        await SettleAsync(admitted, settlement).ConfigureAwait(false);
        switch (end)
        {
            case StreamEnd.CutOff:
                return await CutOffAsync(admitted, stream, metered, settlement).ConfigureAwait(false);
            case StreamEnd.Cancelled:
                // The client went away or cancelled: what was produced so far is charged.
                metrics.ModelCall(stream.Model, "cancelled");
                return Streamed(CallOutcome.Cancelled, stream, metered, "cancelled", settlement);
            case StreamEnd.Failed:
                // The stream had begun: nothing may be retried or replaced.
                LogStreamFailed(call.SessionId, stream.Model, failure!);
                metrics.ModelCall(stream.Model, "failed_mid_stream");
                await stream.FailAsync(failure!).ConfigureAwait(false);
                return Streamed(CallOutcome.FailedMidStream, stream, metered, "error", settlement) with { Failure = failure };
        }

        metrics.ModelCall(stream.Model, "ok");
        await stream.CompleteAsync(StatusCodes.Status200OK).ConfigureAwait(false);
        var finish = metered.FinishReason;
        await StoreIfCacheableAsync(admitted, stream.Route, stream.Model, finish, metered.ToolCalls.Count > 0, metered.Text, cancellationToken).ConfigureAwait(false);
        metrics.Answered(stream.Route);
        return Streamed(CallOutcome.Answered, stream, metered, finish, settlement);
    }

    /// <summary>The live cut-off: the chunk in hand did not fit; the upstream call is cancelled (the breaker is not told it failed).</summary>
    private async Task<CallResult> CutOffAsync(AdmittedCall admitted, RoutedStream stream, MeteredStream metered, CallSettlement settlement)
    {
        await stream.CancelAsync().ConfigureAwait(false);
        var meter = metered.Meter;
        var reason = meter.CutOff.ToWireName()!;
        if (meter.NewlyTripped)
        {
            metrics.Tripped(reason);
        }

        metrics.ModelCall(stream.Model, "cut_off");
        LogCutOff(admitted.Call.SessionId, stream.Model, reason, meter.Delivered);
        metrics.Answered(stream.Route);
        return Streamed(CallOutcome.CutOff, stream, metered, "length", settlement) with { CutOffReason = meter.CutOff };
    }

    /// <summary>
    /// A stored answer to the same conversation: the call was admitted (so an agent looping on cache hits still trips),
    /// but makes no model call and costs no model tokens (the reservations are given back).
    /// </summary>
    private async Task<CallResult?> FromCacheAsync(AdmittedCall admitted, CancellationToken cancellationToken)
    {
        if (await cache.FindAsync(admitted.CacheKey, cancellationToken).ConfigureAwait(false) is not { } hit)
        {
            return null;
        }

        await SettleAsync(admitted, new CallSettlement(admitted.Admission.ReservedInputTokens, 0, 0)).ConfigureAwait(false);
        metrics.Answered(Routes.Cache);
        return new CallResult(CallOutcome.Cached, Routes.Cache, hit.Model, hit.Text, [], "stop", 0, 0);
    }

    /// <summary>
    /// No route could answer: the call keeps its reservation (it was made). A cached answer to the same conversation if
    /// there is one (another request may have stored it meanwhile, on any node), else the deterministic fallback.
    /// </summary>
    private async Task<CallResult> NoRouteAsync(AdmittedCall admitted, int? upstreamStatus, CancellationToken cancellationToken)
    {
        var model = admitted.Call.Model.Name;
        LogNoRoute(model, upstreamStatus ?? 0);
        if (await cache.FindAsync(admitted.CacheKey, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            metrics.Answered(Routes.Cache);
            return new CallResult(CallOutcome.Cached, Routes.Cache, cached.Model, cached.Text, [], "stop", 0, 0) { UpstreamStatus = upstreamStatus };
        }

        metrics.Answered(Routes.Deterministic);
        return new CallResult(CallOutcome.Fallback, Routes.Deterministic, model, string.Empty, [], "stop", 0, 0) { UpstreamStatus = upstreamStatus };
    }

    private static CallResult Streamed(CallOutcome outcome, RoutedStream stream, MeteredStream metered, string finish, CallSettlement settlement) =>
        new(outcome, stream.Route, stream.Model, metered.Text, metered.ToolCalls, finish, settlement.InputTokens, settlement.OutputTokens)
        {
            Streamed = true,
        };

    private async Task StoreIfCacheableAsync(
        AdmittedCall admitted, string route, string model, string finish, bool hasToolCalls, string text, CancellationToken cancellationToken)
    {
        if (AnswerCache.IsCacheable(route, finish, hasToolCalls, text))
        {
            await cache.StoreAsync(admitted.CacheKey, model, text, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The real usage, to the session (one-way) and to the tenant's token limit; a client gone does not skip it.</summary>
    private ValueTask SettleAsync(AdmittedCall admitted, CallSettlement settlement)
    {
        metrics.Tokens(settlement.InputTokens, settlement.OutputTokens);
        _ = admitted.Session.SettleAsync(settlement);
        return SettleTenantAsync(admitted.Charge, settlement.InputTokens, settlement.OutputTokens);
    }

    private ValueTask SettleTenantAsync(TenantCharge charge, long input, long output) =>
        charge.Tenant is { } tenant ? limits.SettleAsync(tenant, charge.Tokens, input, output, CancellationToken.None) : ValueTask.CompletedTask;

    [LoggerMessage(LogEvents.Pipeline + 0, LogLevel.Debug, "Session {SessionId} refused: {TripReason}")]
    private partial void LogRefused(string sessionId, string tripReason);

    [LoggerMessage(LogEvents.Pipeline + 1, LogLevel.Warning, "No route answered for model {Model} (last upstream status {Status}); answered with the fallback")]
    private partial void LogNoRoute(string model, int status);

    [LoggerMessage(LogEvents.Pipeline + 2, LogLevel.Warning, "Session {SessionId}: model {Model} failed mid-stream")]
    private partial void LogStreamFailed(string sessionId, string model, Exception exception);

    [LoggerMessage(LogEvents.Pipeline + 3, LogLevel.Warning, "Session {SessionId}: stream from {Model} cut off ({TripReason}) after {Delivered} tokens")]
    private partial void LogCutOff(string sessionId, string model, string tripReason, long delivered);

    [LoggerMessage(LogEvents.Pipeline + 4, LogLevel.Information, "Tenant {Tenant} over its {Limit}-per-minute limit; retry after {Seconds} s")]
    private partial void LogRateLimited(string tenant, string limit, long seconds);
}
