namespace AgentGateway.Contracts.Conversations;

/// <summary>
/// One session's chat over WebSocket (key: the session id): its sockets, its messages and the agent loop. A user
/// message starts a streamed model call; a model that asks for tools waits for the client's results; then the next call
/// goes out, counted as a loop of the same task. Every model call goes through the same governed pipeline as
/// <c>/v1/chat/completions</c>.
/// </summary>
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>Adds a socket of <paramref name="tenant"/> and sends it the current state first; false when the session has all the sockets it may.</summary>
    Task<bool> AttachAsync(IChatSocket socket, string tenant);

    Task DetachAsync(IChatSocket socket);

    /// <summary>
    /// Handles one client message from <paramref name="from"/>: what every socket must see is sent to them all; the
    /// answer meant for the sender alone (an error) is returned, for the sender to queue before it reads on.
    /// </summary>
    Task<byte[]?> HandleAsync(IChatSocket from, ClientMessage message);
}
