using System.Text.Json;
using AgentGateway.Contracts.Conversations;
using AgentGateway.Silo.Pipeline;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// A conversation's model call, run outside the conversation's turns: the governed pipeline's stream, its metered tokens
/// straight to the sockets, and its end reported back into a turn.
/// </summary>
internal sealed class ConversationCall(ConversationSockets sockets) : ICallSink
{
    public static async Task RunAsync(
        GovernedCalls calls, AdmittedCall admitted, ConversationSockets sockets, IConversationCallbacks conversation, int number, CancellationToken cancellationToken)
    {
        ConversationCallEnd end;
        try
        {
            var sink = new ConversationCall(sockets);
            var result = await calls.StreamAsync(admitted, sink, cancellationToken).ConfigureAwait(false);
            if (result.Outcome == CallOutcome.Cached)
            {
                // A stored answer is sent as one token, like a stream of one chunk.
                await sockets.SendTokenAsync(result.Text).ConfigureAwait(false);
            }

            end = EndOf(number, result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            end = new ConversationCallEnd(number, ConversationCallOutcome.Cancelled, string.Empty, [], "cancelled", null, admitted.Call.Model.Name, 0, 0, default);
        }
        catch (Exception)
        {
            // Whatever broke (the pipeline logs model failures), the conversation must leave its streaming phase.
            end = new ConversationCallEnd(number, ConversationCallOutcome.Failed, string.Empty, [], "error", null, admitted.Call.Model.Name, 0, 0, default);
        }

        await conversation.CallEndedAsync(end).ConfigureAwait(false);
    }

    public ValueTask StartAsync(string route, string model, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask WriteAsync(string? text, IReadOnlyList<FunctionCallContent>? toolCalls, CancellationToken cancellationToken) =>
        text is null ? ValueTask.CompletedTask : sockets.SendTokenAsync(text);

    /// <summary>A tool call as the model gave it, from the form it travelled in.</summary>
    public static FunctionCallContent FromWire(ChatToolCall call) => FunctionCallContent.CreateFromParsedArguments(
        call.ArgumentsJson, call.CallId, call.Name, static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions));

    private static ConversationCallEnd EndOf(int number, CallResult result) => new(
        number,
        result.Outcome switch
        {
            CallOutcome.Answered => ConversationCallOutcome.Answered,
            CallOutcome.Cached => ConversationCallOutcome.Cached,
            CallOutcome.CutOff => ConversationCallOutcome.CutOff,
            CallOutcome.Cancelled => ConversationCallOutcome.Cancelled,
            CallOutcome.Fallback => ConversationCallOutcome.Fallback,
            _ => ConversationCallOutcome.Failed,
        },
        result.Text,
        [.. result.ToolCalls.Select(static c => new ChatToolCall(
            c.CallId,
            c.Name,
            c.Arguments is null ? "{}" : JsonSerializer.Serialize(c.Arguments, AIJsonUtilities.DefaultOptions)))],
        result.FinishReason,
        result.Route,
        result.Model,
        result.InputTokens,
        result.OutputTokens,
        result.CutOffReason);
}
