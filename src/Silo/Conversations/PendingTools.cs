using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Conversations;

/// <summary>The tool calls a conversation's model asked for and the results the client sent so far, for one round.</summary>
internal sealed class PendingTools
{
    private readonly List<FunctionCallContent> _calls = [];
    private readonly Dictionary<string, string> _results = new(StringComparer.Ordinal);

    public IReadOnlyCollection<FunctionCallContent> Calls => _calls;

    /// <summary>Whether every call has its result.</summary>
    public bool Answered => _results.Count == _calls.Count;

    public void Start(IEnumerable<FunctionCallContent> calls)
    {
        _calls.Clear();
        _calls.AddRange(calls);
        _results.Clear();
    }

    /// <summary>Takes a result; false when no call of that id waits (or it has its result already).</summary>
    public bool TryAnswer(string callId, string content) => _calls.Exists(c => c.CallId == callId) && _results.TryAdd(callId, content);

    /// <summary>Ends the round: the tool message for the history (<paramref name="missing"/> for unanswered calls).</summary>
    public ChatMessage End(string? missing)
    {
        var message = new ChatMessage(
            ChatRole.Tool,
            [.. _calls.Select(c => (AIContent)new FunctionResultContent(c.CallId, _results.TryGetValue(c.CallId, out var result) ? result : missing))]);
        _calls.Clear();
        _results.Clear();
        return message;
    }
}
