using AgentGateway.Contracts.Conversations;

namespace AgentGateway.Silo.Conversations;

/// <summary>A chat socket as its conversation grain reaches it (<see cref="IChatSocket"/>): frames go to the connection's send queue.</summary>
internal sealed class ChatSocketObserver(ChatConnection connection) : IChatSocket
{
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once the conversation's first message (its <c>state</c>) is queued. The connection reads the client
    /// only after it, so an answer the node writes itself (a <c>pong</c>) can never overtake the state.
    /// </summary>
    public Task FirstMessage => _first.Task;

    public Task SendAsync(byte[] message)
    {
        connection.Send(message);
        _first.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task SendStreamedAsync(byte[] message)
    {
        if (connection.Send(message))
        {
            await connection.WaitForSpaceAsync().ConfigureAwait(false);
        }
    }
}
