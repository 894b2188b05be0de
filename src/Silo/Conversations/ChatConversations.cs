using System.Net.WebSockets;
using AgentGateway.Contracts.Conversations;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// The chat sockets of this node: each accepted WebSocket becomes a <see cref="ChatConnection"/>, reachable by its
/// session's <see cref="ConversationGrain"/> as an <see cref="IChatSocket"/> observer; the connection's messages go to the
/// grain one at a time.
/// </summary>
public sealed class ChatConversations
{
    private readonly IGrainFactory _grains;
    private readonly ChatSocketOptions _options;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly GrainActivations _activations;
    private readonly ChatSocketDirectory _directory;
    private readonly ILogger<ChatConnection> _connectionLogger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChatConnection, byte> _open = new();

    public ChatConversations(
        IGrainFactory grains,
        IOptions<ChatSocketOptions> options,
        GatewayMetrics metrics,
        GrainActivations activations,
        ChatSocketDirectory directory,
        TimeProvider time,
        ILoggerFactory loggers,
        IHostApplicationLifetime lifetime)
    {
        lifetime.ApplicationStopping.Register(CloseAll);
        _grains = grains;
        _options = options.Value;
        _metrics = metrics;
        _activations = activations;
        _directory = directory;
        _time = time;
        _connectionLogger = loggers.CreateLogger<ChatConnection>();
    }

    /// <summary>Sockets open on this node.</summary>
    public int SocketCount => _open.Count;

    /// <summary>Conversations live on this node.</summary>
    public int ConversationCount => _activations.Conversations;

    /// <summary>Raised when the node starts closing a socket (its <see cref="ChatConnection.CloseCode"/> is set), or the client closed it.</summary>
    public event Action<ChatConnection>? Closing;

    /// <summary>Serves one accepted socket until it closes.</summary>
    public async Task RunAsync(string sessionId, string tenant, WebSocket socket)
    {
        var connection = new ChatConnection(sessionId, socket, _options, _time, _connectionLogger, c => Closing?.Invoke(c))
        {
            Tenant = tenant,
        };
        var conversation = _grains.GetGrain<IConversationGrain>(sessionId);
        var observer = new ChatSocketObserver(connection);
        var reference = _grains.CreateObjectReference<IChatSocket>(observer);
        _directory.Add(reference, observer);
        _open.TryAdd(connection, 0);
        _metrics.SocketOpened();
        var attached = false;
        try
        {
            attached = await conversation.AttachAsync(reference, tenant).ConfigureAwait(false);
            if (attached)
            {
                await observer.FirstMessage.ConfigureAwait(false);
            }
            else
            {
                connection.Close(ChatProtocol.CloseCodes.TooManySockets, "too many sockets on this session");
            }

            await connection.RunAsync((c, utf8) => OnMessageAsync(c, conversation, reference, utf8), OnBadFrame).ConfigureAwait(false);
        }
        finally
        {
            if (attached)
            {
                await conversation.DetachAsync(reference).ConfigureAwait(false);
            }

            _directory.Remove(reference);
            _grains.DeleteObjectReference<IChatSocket>(reference);
            GC.KeepAlive(observer);
            _open.TryRemove(connection, out _);
            _metrics.SocketClosed(connection.CloseCode);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The node is stopping: every socket is closed with 1001 (going away).</summary>
    public void CloseAll()
    {
        foreach (var (connection, _) in _open)
        {
            connection.Close(1001, "the node is shutting down");
        }
    }

    /// <summary>One message at a time per socket: the next is read only after the conversation has taken this one.</summary>
    private static async ValueTask OnMessageAsync(ChatConnection connection, IConversationGrain conversation, IChatSocket from, ReadOnlyMemory<byte> utf8)
    {
        if (!ChatProtocolParser.TryParse(utf8.Span, out var message, out var error))
        {
            OnBadFrame(connection, error);
            return;
        }

        if (message.Type == ClientMessageType.Ping)
        {
            connection.Send(ChatProtocol.Pong(message.Id));
            return;
        }

        if (await conversation.HandleAsync(from, message).ConfigureAwait(false) is { } reply)
        {
            connection.Send(reply);
        }
    }

    private static void OnBadFrame(ChatConnection connection, ProtocolError error)
        => connection.Send(ChatProtocol.Error(error.Code, error.Message));
}
