using System.Text;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Runtime;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Streaming;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Conversations;

/// <summary>Where a conversation is in its agent loop.</summary>
public enum ConversationPhase
{
    Idle,
    Streaming,
    AwaitingTool,
}

/// <summary>
/// One session's chat over WebSocket: its sockets, its messages, and the agent loop — a user message starts a
/// streamed model call; a model that asks for tools waits for the client's results; then the next call goes out,
/// counted as a loop of the same task. Every model call is admitted by the session actor (the same loop limit and
/// velocity budget as <c>/v1/chat/completions</c>), and every streamed chunk is paid for through a
/// <see cref="TokenMeter"/> before any socket sees it.
/// </summary>
/// <remarks>
/// State changes happen in this actor's turns. The model call itself runs outside them (a turn must not last as
/// long as a stream), passes its tokens straight to the sockets, and reports its end as a message to this actor.
/// Only the list of sockets and the text streamed so far are shared with it, under <see cref="_gate"/>, so a
/// socket that attaches mid-stream gets the text so far in its <c>state</c> and every later token exactly once.
/// </remarks>
public sealed class ConversationActor(string sessionId, ConversationContext context) : Actor
{
    private readonly object _gate = new();
    private readonly StringBuilder _partial = new();
    private readonly List<ChatMessage> _history = [];
    private readonly List<FunctionCallContent> _pendingCalls = [];
    private readonly Dictionary<string, string> _results = new(StringComparer.Ordinal);
    private ChatConnection[] _connections = [];
    private ConversationPhase _phase;
    private int _userMessages;
    private ulong _task;
    private ModelEntry? _model;
    private ModelCall? _call;
    private ITimer? _toolTimer;
    private int _toolRound;
    private int _loopCount;
    private string? _tenant;

    public override bool CanDeactivate => _connections.Length == 0 && _phase == ConversationPhase.Idle;

    public override ValueTask OnDeactivateAsync(CancellationToken cancellationToken)
    {
        _toolTimer?.Dispose();
        _call?.Cancel();
        return ValueTask.CompletedTask;
    }

    /// <summary>Adds a socket and sends it the current state first; false when the session has all the sockets it may.</summary>
    public async ValueTask<bool> AttachAsync(ChatConnection connection, CancellationToken cancellationToken)
    {
        if (_connections.Length >= context.Options.MaxSocketsPerSession)
        {
            return false;
        }

        var view = await context.Session(sessionId).GetAsync(withAudit: false).ConfigureAwait(false) ?? context.NewSessionView(sessionId);

        // Every socket's tenant owns the session (claimed before the upgrade); the calls are admitted as that tenant.
        _tenant ??= connection.Tenant;
        lock (_gate)
        {
            _connections = [.. _connections, connection];
            connection.Send(ChatProtocol.State(view, PhaseName(_phase), _pendingCalls, _partial.ToString(), _history));
        }

        return true;
    }

    public ValueTask DetachAsync(ChatConnection connection)
    {
        lock (_gate)
        {
            _connections = [.. _connections.Where(c => c != connection)];
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ChatConnection from, ClientMessage message, CancellationToken cancellationToken) => message.Type switch
    {
        ClientMessageType.UserMessage => OnUserMessageAsync(from, message.Text!, message.Model, cancellationToken),
        ClientMessageType.ToolResult => OnToolResultAsync(from, message.CallId!, message.Content!, cancellationToken),
        ClientMessageType.Cancel => OnCancelAsync(),
        _ => ValueTask.CompletedTask,
    };

    /// <summary>The model call <paramref name="outcome"/> belongs to has ended.</summary>
    public ValueTask OnCallEndedAsync(CallOutcome outcome)
    {
        if (!ReferenceEquals(outcome.Call, _call))
        {
            return ValueTask.CompletedTask;
        }

        _call = null;
        var text = outcome.Text;
        if (outcome.Kind == CallOutcomeKind.Completed)
        {
            var contents = new List<AIContent>();
            if (text.Length > 0)
            {
                contents.Add(new TextContent(text));
            }

            contents.AddRange(outcome.ToolCalls);
            AddToHistory(new ChatMessage(ChatRole.Assistant, contents));

            // The conversation is waiting (timer armed) before any socket hears of the tool call, so a result
            // can never arrive ahead of the state that accepts it.
            if (outcome.ToolCalls.Count > 0)
            {
                _pendingCalls.Clear();
                _pendingCalls.AddRange(outcome.ToolCalls);
                _results.Clear();
                _phase = ConversationPhase.AwaitingTool;
                var round = ++_toolRound;
                _toolTimer?.Dispose();
                _toolTimer = context.Time.CreateTimer(
                    static state =>
                    {
                        var (ctx, id, r) = ((ConversationContext, string, int))state!;
                        ctx.Post(id, r, static (actor, n) => actor.OnToolTimeoutAsync(n));
                    },
                    (context, sessionId, round),
                    context.Options.ToolResultTimeout,
                    Timeout.InfiniteTimeSpan);
            }
            else
            {
                _phase = ConversationPhase.Idle;
            }

            foreach (var call in outcome.ToolCalls)
            {
                Broadcast(ChatProtocol.ToolCall(call));
            }

            Broadcast(ChatProtocol.Done(outcome.FinishReason, outcome.Route, outcome.Model, _loopCount, outcome.InputTokens, outcome.OutputTokens));
        }
        else
        {
            if (text.Length > 0)
            {
                AddToHistory(new ChatMessage(ChatRole.Assistant, text));
            }

            _phase = ConversationPhase.Idle;
            Broadcast(outcome.Kind switch
            {
                CallOutcomeKind.CutOff => ChatProtocol.Fallback(outcome.TripReason.ToWireName()!, context.FallbackMessage),
                CallOutcomeKind.Cancelled => ChatProtocol.Done("cancelled", outcome.Route, outcome.Model, _loopCount, outcome.InputTokens, outcome.OutputTokens),
                _ => ChatProtocol.Fallback("model_unavailable", context.FallbackMessage),
            });
        }

        lock (_gate)
        {
            _partial.Clear();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The tool round <paramref name="round"/> timed out (ignored when it has already ended).</summary>
    public ValueTask OnToolTimeoutAsync(int round)
    {
        if (_phase != ConversationPhase.AwaitingTool || round != _toolRound)
        {
            return ValueTask.CompletedTask;
        }

        EndToolRound($"error: no tool result within {context.Options.ToolResultTimeout.TotalSeconds:0.###} s");
        Broadcast(ChatProtocol.Error(
            ChatProtocol.Codes.ToolTimeout,
            $"No tool_result arrived within {context.Options.ToolResultTimeout.TotalSeconds:0.###} s (Chat:ToolResultTimeout); the turn has ended."));
        return ValueTask.CompletedTask;
    }

    private async ValueTask OnUserMessageAsync(ChatConnection from, string text, string? modelName, CancellationToken cancellationToken)
    {
        if (_phase != ConversationPhase.Idle)
        {
            from.Send(ChatProtocol.Error(ChatProtocol.Codes.TurnInProgress, $"The session is {PhaseName(_phase)}; send cancel first or wait for done."));
            return;
        }

        var name = modelName ?? context.DefaultModel;
        if (!context.Models.TryGet(name, out var model))
        {
            from.Send(ChatProtocol.Error(
                ChatProtocol.Codes.UnknownModel,
                $"Model '{name}' is not served here. Served models: {string.Join(", ", context.Models.Models.Select(m => m.Name))}."));
            return;
        }

        // The tenant's limits are checked when a task starts: a refused message changes nothing (not even the
        // history), and the socket stays usable. The task's later calls (after tool results) are charged to the
        // token limit but not refused, so a task is never left half-way.
        var userMessage = new ChatMessage(ChatRole.User, text);
        long charged = 0;
        if ((_tenant ?? from.Tenant) is { } tenant)
        {
            charged = TokenEstimator.EstimateInput([.. _history, userMessage]);
            var decision = await context.Limits.TryAcquireAsync(tenant, charged, cancellationToken).ConfigureAwait(false);
            if (!decision.Allowed)
            {
                from.Send(ChatProtocol.RateLimited(
                    decision.LimitName ?? "requests",
                    decision.RetryAfterSeconds,
                    $"Tenant '{tenant}' is over its {decision.LimitName}-per-minute limit; retry after {decision.RetryAfterSeconds} s."));
                return;
            }
        }

        _model = model;
        _userMessages++;
        _task = TaskFingerprint.Compute(_userMessages, text);
        AddToHistory(userMessage);
        Broadcast(ChatProtocol.UserMessage(text, model.Name));
        await StartCallAsync(TurnKind.UserMessage, charged, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask OnToolResultAsync(ChatConnection from, string callId, string content, CancellationToken cancellationToken)
    {
        if (_phase != ConversationPhase.AwaitingTool
            || !_pendingCalls.Exists(c => c.CallId == callId)
            || !_results.TryAdd(callId, content))
        {
            from.Send(ChatProtocol.Error(ChatProtocol.Codes.UnknownToolCall, $"No tool call '{callId}' is waiting for a result."));
            return;
        }

        Broadcast(ChatProtocol.ToolResult(callId, content));
        if (_results.Count < _pendingCalls.Count)
        {
            return;
        }

        EndToolRound(null);
        await StartCallAsync(TurnKind.Continuation, null, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask OnCancelAsync()
    {
        switch (_phase)
        {
            case ConversationPhase.Streaming:
                // The call reports its end (Cancelled) as a message of its own.
                _call?.Cancel();
                break;
            case ConversationPhase.AwaitingTool:
                EndToolRound("error: cancelled by the user");
                Broadcast(ChatProtocol.Done("cancelled", null, _model?.Name, _loopCount, 0, 0));
                break;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the tool round: results in the history (<paramref name="missing"/> for unanswered calls), back to idle.</summary>
    private void EndToolRound(string? missing)
    {
        _toolTimer?.Dispose();
        _toolTimer = null;
        var results = new List<AIContent>(_pendingCalls.Count);
        foreach (var call in _pendingCalls)
        {
            results.Add(new FunctionResultContent(call.CallId, _results.TryGetValue(call.CallId, out var result) ? result : missing));
        }

        AddToHistory(new ChatMessage(ChatRole.Tool, results));
        _pendingCalls.Clear();
        _results.Clear();
        _phase = ConversationPhase.Idle;
    }

    /// <summary>
    /// Asks the session actor for the next model call and, when admitted, starts it. <paramref name="charged"/>: the
    /// tokens the tenant's limits were charged when the task's message was admitted; null for a continuation, whose
    /// estimate is charged here.
    /// </summary>
    private async ValueTask StartCallAsync(TurnKind kind, long? charged, CancellationToken cancellationToken)
    {
        var estimate = TokenEstimator.EstimateInput(_history);
        if (charged is null && _tenant is not null)
        {
            await context.Limits.SettleAsync(_tenant, 0, estimate, 0, CancellationToken.None).ConfigureAwait(false);
        }

        var tenantCharge = charged ?? (_tenant is null ? 0 : estimate);
        var admission = await context.Session(sessionId).AdmitAsync(new TurnInfo(kind, _task, estimate, _tenant, _model!.Name)).ConfigureAwait(false);
        if (admission.Busy)
        {
            // Nothing was decided (another writer moved the session on): the client may retry.
            await RefundTenantAsync(tenantCharge).ConfigureAwait(false);
            Broadcast(ChatProtocol.Error(ChatProtocol.Codes.SessionBusy, $"Session '{sessionId}' was written elsewhere at the same moment; retry shortly."));
            return;
        }

        if (admission.Forbidden)
        {
            await RefundTenantAsync(tenantCharge).ConfigureAwait(false);
            Broadcast(ChatProtocol.Error(ChatProtocol.Codes.SessionForbidden, $"Session '{sessionId}' belongs to another tenant."));
            return;
        }

        _loopCount = admission.LoopCount;
        if (!admission.Allowed)
        {
            var reason = admission.TripReason.ToWireName()!;
            if (admission.NewlyTripped)
            {
                context.Metrics.Tripped(reason);
            }

            await RefundTenantAsync(tenantCharge).ConfigureAwait(false);
            Broadcast(ChatProtocol.Fallback(reason, context.FallbackMessage));
            return;
        }

        // Admitted (the loop counted): a stored answer to the same conversation is sent without a model call, as one
        // token, and costs no model tokens.
        var cacheKey = context.Cache.KeyFor(_model!.Name, _history, null);
        if (await context.Cache.FindAsync(cacheKey, cancellationToken).ConfigureAwait(false) is { } hit)
        {
            context.Settle(sessionId, new CallSettlement(admission.ReservedInputTokens, 0, 0));
            await RefundTenantAsync(tenantCharge).ConfigureAwait(false);
            context.Metrics.Answered(Routes.Cache);
            AddToHistory(new ChatMessage(ChatRole.Assistant, hit.Text));
            Broadcast(ChatProtocol.Token(hit.Text));
            Broadcast(ChatProtocol.Done("stop", Routes.Cache, hit.Model, _loopCount, 0, 0));
            return;
        }

        _phase = ConversationPhase.Streaming;
        var call = new ModelCall(_model!, [.. _history], admission) { Tenant = _tenant, TenantCharged = tenantCharge, CacheKey = cacheKey };
        _call = call;
        _ = Task.Run(() => RunCallAsync(call));
    }

    /// <summary>Gives back the tokens charged to the tenant's limits for a call that was not made.</summary>
    private ValueTask RefundTenantAsync(long charged) =>
        _tenant is null ? ValueTask.CompletedTask : context.Limits.SettleAsync(_tenant, charged, 0, 0, CancellationToken.None);

    /// <summary>The model call, outside the actor's turns: stream, meter, pass tokens on, then report the end.</summary>
    private async Task RunCallAsync(ModelCall call)
    {
        var meter = new TokenMeter(context.Session(sessionId), call.Admission, context.StreamGrantTokens, call.Model.Name);
        List<FunctionCallContent>? toolCalls = null;
        long? input = null, output = null;
        string? finish = null, route = null, model = null;
        var kind = CallOutcomeKind.Completed;
        var opened = false;
        try
        {
            var (stream, _) = await context.Router.OpenStreamAsync(call.Model, call.Messages, new ChatOptions { ModelId = call.Model.Name }, call.Token)
                .ConfigureAwait(false);
            if (stream is null)
            {
                kind = CallOutcomeKind.NoRoute;
            }
            else
            {
                opened = true;
                await using var _ = stream.ConfigureAwait(false);
                route = stream.Route;
                model = stream.Model;
                try
                {
                    var more = stream.HasFirst;
                    while (more)
                    {
                        var update = stream.Updates.Current;
                        var part = StreamedUpdate.Read(update);
                        input = part.InputTokens ?? input;
                        output = part.OutputTokens ?? output;
                        if (part.HasContent)
                        {
                            if (!await meter.TryPassAsync(part.Tokens, call.Token).ConfigureAwait(false))
                            {
                                await stream.CancelAsync().ConfigureAwait(false);
                                kind = CallOutcomeKind.CutOff;
                                if (meter.NewlyTripped)
                                {
                                    context.Metrics.Tripped(meter.CutOff.ToWireName()!);
                                }

                                context.Metrics.ModelCall(stream.Model, "cut_off");
                                break;
                            }

                            if (part.Text is { } delta)
                            {
                                await BroadcastTokenAsync(delta).ConfigureAwait(false);
                            }

                            if (part.ToolCalls is { } calls)
                            {
                                (toolCalls ??= []).AddRange(calls);
                            }
                        }

                        if (update.FinishReason is { } reason)
                        {
                            finish = Silo.OpenAi.ChatCompletionWriter.FinishReasonOf(reason, toolCalls is { Count: > 0 });
                        }

                        more = await stream.Updates.MoveNextAsync().ConfigureAwait(false);
                    }

                    if (kind == CallOutcomeKind.Completed)
                    {
                        await stream.CompleteAsync(StatusCodes.Status200OK).ConfigureAwait(false);
                        context.Metrics.ModelCall(stream.Model, "ok");
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    await stream.FailAsync(ex).ConfigureAwait(false);
                    context.Metrics.ModelCall(stream.Model, "failed_mid_stream");
                    kind = CallOutcomeKind.Failed;
                }
            }
        }
        catch (OperationCanceledException) when (call.Token.IsCancellationRequested)
        {
            kind = CallOutcomeKind.Cancelled;
        }
        catch (Exception)
        {
            kind = CallOutcomeKind.Failed;
        }

        if (opened)
        {
            var settlement = meter.Settlement(kind == CallOutcomeKind.Completed ? input : null, kind == CallOutcomeKind.Completed ? output : null);
            context.Settle(sessionId, settlement);
            input = settlement.InputTokens;
            output = settlement.OutputTokens;
            if (call.Tenant is { } tenant)
            {
                await context.Limits.SettleAsync(tenant, call.TenantCharged, settlement.InputTokens, settlement.OutputTokens, CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (route is not null && kind is CallOutcomeKind.Completed or CallOutcomeKind.CutOff)
        {
            context.Metrics.Answered(route);
        }

        var text = PartialText();
        finish ??= Silo.OpenAi.ChatCompletionWriter.FinishReasonOf(null, toolCalls is { Count: > 0 });
        if (kind == CallOutcomeKind.Completed && route is not null && AnswerCache.IsCacheable(route, finish, toolCalls is { Count: > 0 }, text))
        {
            await context.Cache.StoreAsync(call.CacheKey, model!, text, CancellationToken.None).ConfigureAwait(false);
        }

        var outcome = new CallOutcome(
            call,
            kind,
            text,
            (IReadOnlyList<FunctionCallContent>?)toolCalls ?? [],
            finish,
            route,
            model,
            input ?? 0,
            output ?? 0,
            meter.CutOff);
        context.Post(sessionId, outcome, static (actor, o) => actor.OnCallEndedAsync(o));
        call.Dispose();
    }

    /// <summary>The text streamed in the current call (kept once, for new sockets and for the history).</summary>
    private string PartialText()
    {
        lock (_gate)
        {
            return _partial.ToString();
        }
    }

    /// <summary>Passes a token to every socket (and the text so far), then waits for any socket whose queue is full.</summary>
    private async ValueTask BroadcastTokenAsync(string delta)
    {
        var message = ChatProtocol.Token(delta);
        ChatConnection[] targets;
        lock (_gate)
        {
            _partial.Append(delta);
            targets = _connections;
            foreach (var connection in targets)
            {
                connection.Send(message);
            }
        }

        foreach (var connection in targets)
        {
            await connection.WaitForSpaceAsync().ConfigureAwait(false);
        }
    }

    private void Broadcast(byte[] message)
    {
        lock (_gate)
        {
            foreach (var connection in _connections)
            {
                connection.Send(message);
            }
        }
    }

    /// <summary>Appends to the history, dropping the oldest messages beyond the limit (the kept part starts with a user message).</summary>
    private void AddToHistory(ChatMessage message)
    {
        _history.Add(message);
        if (_history.Count <= context.Options.MaxHistoryMessages)
        {
            return;
        }

        var drop = _history.Count - context.Options.MaxHistoryMessages;
        while (drop < _history.Count - 1 && _history[drop].Role != ChatRole.User)
        {
            drop++;
        }

        _history.RemoveRange(0, drop);
    }

    private static string PhaseName(ConversationPhase phase) => phase switch
    {
        ConversationPhase.Streaming => "streaming",
        ConversationPhase.AwaitingTool => "awaiting_tool",
        _ => "idle",
    };
}

/// <summary>One model call of a conversation: what it sends, its admission, and the switch that cancels it.</summary>
public sealed class ModelCall(ModelEntry model, List<ChatMessage> messages, Admission admission) : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    public ModelEntry Model { get; } = model;

    public List<ChatMessage> Messages { get; } = messages;

    public Admission Admission { get; } = admission;

    /// <summary>The tenant whose rate limits pay for the call, and the tokens charged to them before it.</summary>
    public string? Tenant { get; init; }

    public long TenantCharged { get; init; }

    /// <summary>The conversation's answer-cache key (null: the cache is off); a complete answer is stored under it.</summary>
    public string? CacheKey { get; init; }

    public CancellationToken Token => _cancel.Token;

    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call has already ended.
        }
    }

    public void Dispose() => _cancel.Dispose();
}

public enum CallOutcomeKind
{
    Completed,
    CutOff,
    Cancelled,
    NoRoute,
    Failed,
}

/// <summary>How a model call ended, reported to its conversation.</summary>
public sealed record CallOutcome(
    ModelCall Call,
    CallOutcomeKind Kind,
    string Text,
    IReadOnlyList<FunctionCallContent> ToolCalls,
    string FinishReason,
    string? Route,
    string? Model,
    long InputTokens,
    long OutputTokens,
    TripReason TripReason);
