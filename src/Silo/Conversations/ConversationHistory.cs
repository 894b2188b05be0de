using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Conversations;

/// <summary>A conversation's messages, bounded: the oldest go first, and what is kept always starts with a user message.</summary>
internal sealed class ConversationHistory(int maxMessages)
{
    private readonly List<ChatMessage> _messages = [];

    public IReadOnlyList<ChatMessage> Messages => _messages;

    public void Add(ChatMessage message)
    {
        _messages.Add(message);
        if (_messages.Count <= maxMessages)
        {
            return;
        }

        var drop = _messages.Count - maxMessages;
        while (drop < _messages.Count - 1 && _messages[drop].Role != ChatRole.User)
        {
            drop++;
        }

        _messages.RemoveRange(0, drop);
    }
}
