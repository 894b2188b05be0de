using AgentGateway.Contracts.Sessions;

namespace AgentGateway.Contracts.Conversations;

/// <summary>How a conversation's model call ended (see the pipeline's outcomes).</summary>
public enum ConversationCallOutcome
{
    Answered = 0,
    Cached = 1,
    Fallback = 2,
    CutOff = 3,
    Failed = 4,
    Cancelled = 5,
}

/// <summary>A tool call as the conversation keeps it: its id, the tool, and its arguments as JSON.</summary>
[GenerateSerializer, Immutable]
public sealed record ChatToolCall([property: Id(0)] string CallId, [property: Id(1)] string Name, [property: Id(2)] string ArgumentsJson);

/// <summary>
/// A conversation's model call has ended: what its stream produced and how it was settled, reported back into the
/// conversation's turn by the task that ran it (outside the turn).
/// </summary>
/// <param name="Call">Which call of the conversation (a later call's report is not this one's).</param>
[GenerateSerializer, Immutable]
public sealed record ConversationCallEnd(
    [property: Id(0)] int Call,
    [property: Id(1)] ConversationCallOutcome Outcome,
    [property: Id(2)] string Text,
    [property: Id(3)] IReadOnlyList<ChatToolCall> ToolCalls,
    [property: Id(4)] string FinishReason,
    [property: Id(5)] string? Route,
    [property: Id(6)] string? Model,
    [property: Id(7)] long InputTokens,
    [property: Id(8)] long OutputTokens,
    [property: Id(9)] TripReason CutOffReason);
