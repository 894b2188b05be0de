using AgentGateway.Contracts.Conversations;
using Orleans.Concurrency;

namespace AgentGateway.Silo.Conversations;

/// <summary>How a conversation's model call, which runs outside the grain's turns, reports its end back into a turn.</summary>
public interface IConversationCallbacks : IGrainWithStringKey
{
    [OneWay]
    Task CallEndedAsync(ConversationCallEnd end);
}
