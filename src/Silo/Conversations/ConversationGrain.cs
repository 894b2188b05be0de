using AgentGateway.Contracts.Conversations;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Pipeline;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// One session's chat over WebSocket (<see cref="IConversationGrain"/>): the agent loop as a state machine (idle,
/// streaming, awaiting tool results) over the governed-call pipeline, its history, and its sockets.
/// </summary>
/// <remarks>
/// <para>
/// It lives with the WebSocket transport rather than with the governance grains because it drives the node's request
/// pipeline (<see cref="GovernedCalls"/>: limits, admission, cache, routing, metering) in process; its sockets are
/// grain observers on whichever node holds them.
/// </para>
/// <para>
/// State changes happen in turns; admission is one of them (a refused call changes nothing else). The model call runs
/// outside the turns (a turn must not last as long as a stream), passes its tokens straight to the sockets, and
/// reports its end back into a turn (<see cref="IConversationCallbacks"/>). The activation stays while a socket is
/// attached or a call is running or waiting for tool results.
/// </para>
/// </remarks>
[PreferLocalPlacement]
public sealed class ConversationGrain(
    GovernedCalls calls,
    ModelCatalog models,
    IOptions<ChatSocketOptions> socketOptions,
    IOptions<GatewayOptions> gateway,
    IOptions<GovernanceOptions> governance,
    GrainActivations activations,
    ChatSocketDirectory directory,
    TimeProvider time) : Grain, IConversationGrain, IConversationCallbacks
{
    private readonly ChatSocketOptions _options = socketOptions.Value;
    private readonly string _fallback = gateway.Value.FallbackMessage;
    private readonly ConversationSockets _sockets = new(directory);
    private readonly ConversationHistory _history = new(socketOptions.Value.MaxHistoryMessages);
    private readonly PendingTools _tools = new();
    private ConversationPhase _phase;
    private int _userMessages;
    private ulong _task;
    private ModelEntry? _model;
    private CancellationTokenSource? _running;
    private int _calls;
    private IGrainTimer? _toolTimer;
    private int _toolRound;
    private int _loopCount;
    private string? _tenant;

    private string SessionId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        activations.ConversationActivated();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        activations.ConversationDeactivated();
        _running?.Cancel();
        return Task.CompletedTask;
    }

    public async Task<bool> AttachAsync(IChatSocket socket, string tenant)
    {
        if (_sockets.Count >= _options.MaxSocketsPerSession)
        {
            return false;
        }

        var view = await GrainFactory.GetGrain<ISessionGrain>(SessionId).GetAsync(withAudit: false) ?? new SessionGovernor(SessionId, governance.Value).ToView(0, null, time.GetUtcNow());

        // Every socket's tenant owns the session (claimed before the upgrade); the calls are admitted as that tenant.
        _tenant ??= tenant;
        _sockets.Add(socket, partial => ChatProtocol.State(view, _phase.ToWireName(), _tools.Calls, partial, _history.Messages));
        KeepAliveWhileUsed();
        return true;
    }

    public Task DetachAsync(IChatSocket socket)
    {
        _sockets.Remove(socket);
        KeepAliveWhileUsed();
        return Task.CompletedTask;
    }

    public Task<byte[]?> HandleAsync(IChatSocket from, ClientMessage message) => message.Type switch
    {
        ClientMessageType.UserMessage => OnUserMessageAsync(message.Text!, message.Model),
        ClientMessageType.ToolResult => OnToolResultAsync(message.CallId!, message.Content!),
        ClientMessageType.Cancel => OnCancelAsync(),
        _ => Task.FromResult<byte[]?>(null),
    };

    /// <summary>The model call <paramref name="end"/> reports has ended (a stale report of an earlier call is ignored).</summary>
    public Task CallEndedAsync(ConversationCallEnd end)
    {
        if (end.Call != _calls || _running is null)
        {
            return Task.CompletedTask;
        }

        _running.Dispose();
        _running = null;
        var text = _sockets.TakePartial();
        if (end.Outcome is ConversationCallOutcome.Answered or ConversationCallOutcome.Cached)
        {
            var toolCalls = end.ToolCalls.Select(ConversationCall.FromWire).ToList();
            _history.Add(new ChatMessage(ChatRole.Assistant, [.. text.Length > 0 ? [new TextContent(text)] : Array.Empty<AIContent>(), .. toolCalls]));

            // The conversation is waiting (timer armed) before any socket hears of the tool call, so a result can never
            // arrive ahead of the state that accepts it.
            if (toolCalls.Count > 0)
            {
                AwaitTools(toolCalls);
            }
            else
            {
                _phase = ConversationPhase.Idle;
            }

            foreach (var call in toolCalls)
            {
                _sockets.Send(ChatProtocol.ToolCall(call));
            }

            _sockets.Send(ChatProtocol.Done(end.FinishReason, end.Route, end.Model, _loopCount, end.InputTokens, end.OutputTokens));
        }
        else
        {
            if (text.Length > 0)
            {
                _history.Add(new ChatMessage(ChatRole.Assistant, text));
            }

            _phase = ConversationPhase.Idle;
            _sockets.Send(end.Outcome switch
            {
                ConversationCallOutcome.CutOff => ChatProtocol.Fallback(end.CutOffReason.ToWireName()!, _fallback),
                ConversationCallOutcome.Cancelled => ChatProtocol.Done("cancelled", end.Route, end.Model, _loopCount, end.InputTokens, end.OutputTokens),
                _ => ChatProtocol.Fallback("model_unavailable", _fallback),
            });
        }

        KeepAliveWhileUsed();
        return Task.CompletedTask;
    }

    private async Task<byte[]?> OnUserMessageAsync(string text, string? modelName)
    {
        if (_phase != ConversationPhase.Idle)
        {
            return ChatProtocol.Error(ChatProtocol.Codes.TurnInProgress, $"The session is {_phase.ToWireName()}; send cancel first or wait for done.");
        }

        var name = modelName ?? (string.IsNullOrWhiteSpace(_options.DefaultModel) ? models.Models.First().Name : _options.DefaultModel);
        if (!models.TryGet(name, out var model))
        {
            return ChatProtocol.Error(
                ChatProtocol.Codes.UnknownModel,
                $"Model '{name}' is not served here. Served models: {string.Join(", ", models.Models.Select(m => m.Name))}.");
        }

        // The tenant's limits are checked when a task starts: a refused message changes nothing (not even the history),
        // and the socket stays usable. The task's later calls (after tool results) are charged but not refused, so a
        // task is never left half-way.
        var userMessage = new ChatMessage(ChatRole.User, text);
        var (charge, decision) = await calls.ChargeTenantAsync(_tenant, TokenEstimator.EstimateInput([.. _history.Messages, userMessage]), enforce: true, CancellationToken.None);
        if (!decision.Allowed)
        {
            return ChatProtocol.RateLimited(
                decision.LimitName ?? "requests",
                decision.RetryAfterSeconds,
                $"Tenant '{_tenant}' is over its {decision.LimitName}-per-minute limit; retry after {decision.RetryAfterSeconds} s.");
        }

        _model = model;
        _userMessages++;
        _task = TaskFingerprint.Compute(_userMessages, text);
        _history.Add(userMessage);
        _sockets.Send(ChatProtocol.UserMessage(text, model.Name));
        await StartCallAsync(TurnKind.UserMessage, charge);
        return null;
    }

    private async Task<byte[]?> OnToolResultAsync(string callId, string content)
    {
        if (_phase != ConversationPhase.AwaitingTool || !_tools.TryAnswer(callId, content))
        {
            return ChatProtocol.Error(ChatProtocol.Codes.UnknownToolCall, $"No tool call '{callId}' is waiting for a result.");
        }

        _sockets.Send(ChatProtocol.ToolResult(callId, content));
        if (!_tools.Answered)
        {
            return null;
        }

        EndToolRound(null);
        var (charge, _) = await calls.ChargeTenantAsync(_tenant, TokenEstimator.EstimateInput(_history.Messages), enforce: false, CancellationToken.None);
        await StartCallAsync(TurnKind.Continuation, charge);
        return null;
    }

    private Task<byte[]?> OnCancelAsync()
    {
        switch (_phase)
        {
            case ConversationPhase.Streaming:
                // The call reports its end (cancelled) through CallEndedAsync.
                _running?.Cancel();
                break;
            case ConversationPhase.AwaitingTool:
                EndToolRound("error: cancelled by the user");
                _sockets.Send(ChatProtocol.Done("cancelled", null, _model?.Name, _loopCount, 0, 0));
                KeepAliveWhileUsed();
                break;
        }

        return Task.FromResult<byte[]?>(null);
    }

    /// <summary>Admits the next model call (in this turn) and, when admitted, starts it outside the turn.</summary>
    private async Task StartCallAsync(TurnKind kind, TenantCharge charge)
    {
        var messages = _history.Messages.ToList();
        var call = new GovernedCall(
            SessionId, _tenant, _model!, messages, new ChatOptions { ModelId = _model!.Name }, new TurnInfo(kind, _task, TokenEstimator.EstimateInput(messages)));
        var admitted = await calls.AdmitAsync(call, charge);
        switch (admitted.Outcome)
        {
            case AdmissionOutcome.Busy:
                _sockets.Send(ChatProtocol.Error(ChatProtocol.Codes.SessionBusy, $"Session '{SessionId}' was written elsewhere at the same moment; retry shortly."));
                return;
            case AdmissionOutcome.Forbidden:
                _sockets.Send(ChatProtocol.Error(ChatProtocol.Codes.SessionForbidden, $"Session '{SessionId}' belongs to another tenant."));
                return;
            case AdmissionOutcome.Refused:
                _loopCount = admitted.Admission.LoopCount;
                _sockets.Send(ChatProtocol.Fallback(admitted.Admission.TripReason.ToWireName()!, _fallback));
                return;
        }

        _loopCount = admitted.Admission.LoopCount;
        _phase = ConversationPhase.Streaming;
        var number = ++_calls;
        var running = _running = new CancellationTokenSource();
        var self = this.AsReference<IConversationCallbacks>();
        KeepAliveWhileUsed();
        _ = Task.Run(() => ConversationCall.RunAsync(calls, admitted, _sockets, self, number, running.Token));
    }

    private void AwaitTools(List<FunctionCallContent> toolCalls)
    {
        _tools.Start(toolCalls);
        _phase = ConversationPhase.AwaitingTool;
        var round = ++_toolRound;
        _toolTimer?.Dispose();
        _toolTimer = this.RegisterGrainTimer(() => OnToolTimeoutAsync(round), new GrainTimerCreationOptions(_options.ToolResultTimeout, Timeout.InfiniteTimeSpan));
    }

    /// <summary>The tool round <paramref name="round"/> timed out (ignored when it has already ended).</summary>
    private Task OnToolTimeoutAsync(int round)
    {
        if (_phase != ConversationPhase.AwaitingTool || round != _toolRound)
        {
            return Task.CompletedTask;
        }

        var seconds = _options.ToolResultTimeout.TotalSeconds;
        EndToolRound($"error: no tool result within {seconds:0.###} s");
        _sockets.Send(ChatProtocol.Error(
            ChatProtocol.Codes.ToolTimeout,
            $"No tool_result arrived within {seconds:0.###} s (Chat:ToolResultTimeout); the turn has ended."));
        KeepAliveWhileUsed();
        return Task.CompletedTask;
    }

    /// <summary>Closes the tool round: results in the history (<paramref name="missing"/> for unanswered calls), back to idle.</summary>
    private void EndToolRound(string? missing)
    {
        _toolTimer?.Dispose();
        _toolTimer = null;
        _history.Add(_tools.End(missing));
        _phase = ConversationPhase.Idle;
    }

    /// <summary>Kept while a socket is attached or a call runs or waits for tools; otherwise collected like any idle grain.</summary>
    private void KeepAliveWhileUsed() =>
        DelayDeactivation(_sockets.Count > 0 || _phase != ConversationPhase.Idle ? Timeout.InfiniteTimeSpan : TimeSpan.Zero);
}
