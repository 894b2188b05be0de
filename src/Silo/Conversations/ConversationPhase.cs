namespace AgentGateway.Silo.Conversations;

/// <summary>Where a conversation is in its agent loop.</summary>
public enum ConversationPhase
{
    Idle,
    Streaming,
    AwaitingTool,
}

public static class ConversationPhaseNames
{
    /// <summary>The phase as the protocol names it (the <c>state</c> message, errors).</summary>
    public static string ToWireName(this ConversationPhase phase) => phase switch
    {
        ConversationPhase.Streaming => "streaming",
        ConversationPhase.AwaitingTool => "awaiting_tool",
        _ => "idle",
    };
}
