namespace AgentGateway.Contracts.Conversations;

/// <summary>What a client may send over the chat socket (docs/websocket.md).</summary>
public enum ClientMessageType
{
    UserMessage = 0,
    ToolResult = 1,
    Cancel = 2,
    Ping = 3,
}

/// <summary>One parsed client message (fields not used by its type are null).</summary>
/// <param name="Id">A <c>ping</c>'s id as raw JSON, echoed in the <c>pong</c>.</param>
[GenerateSerializer, Immutable]
public readonly record struct ClientMessage(
    [property: Id(0)] ClientMessageType Type,
    [property: Id(1)] string? Text,
    [property: Id(2)] string? Model,
    [property: Id(3)] string? CallId,
    [property: Id(4)] string? Content,
    [property: Id(5)] string? Id);
