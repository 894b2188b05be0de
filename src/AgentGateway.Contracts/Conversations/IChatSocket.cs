using Orleans.Concurrency;

namespace AgentGateway.Contracts.Conversations;

/// <summary>
/// One chat WebSocket as its conversation grain reaches it: a grain observer on the node that holds the socket. The
/// messages are the protocol's encoded frames (docs/websocket.md), encoded once and shared by every socket.
/// </summary>
public interface IChatSocket : IGrainObserver
{
    /// <summary>Queues a message (state, done, an error…); never waits. A socket whose queue is full is closed with 4008.</summary>
    [OneWay]
    Task SendAsync(byte[] message);

    /// <summary>Queues a streamed token, then waits while the socket's queue is full: a slow client slows its stream.</summary>
    Task SendStreamedAsync(byte[] message);
}
