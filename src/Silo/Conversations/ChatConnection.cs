using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// One chat socket: a receive loop that hands each complete client message to the conversation, and a send loop
/// that drains a bounded queue. A stream waits while a socket's queue is full (backpressure), but a client that
/// stops reading for longer than <see cref="ChatSocketOptions.SendTimeout"/> is closed with 4008 instead of
/// growing the node's memory; a client that stays silent past the idle timeout is closed with 4001.
/// </summary>
public sealed partial class ChatConnection : IAsyncDisposable
{
    private const int ReceiveChunkBytes = 1024;

    /// <summary>Room kept above the queue's capacity for the conversation's own messages (done, errors), which never wait.</summary>
    private const int ControlReserve = 32;

    private readonly WebSocket _socket;
    private readonly ChatSocketOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<byte[]> _outbox;
    private readonly ITimer _idle;
    private readonly CancellationTokenSource _aborted = new();
    private ITimer? _closeDeadline;
    private TaskCompletionSource? _spaceWaiter;
    private long _backlogSince;
    private int _closing;
    private int _closeCode;
    private string _closeReason = string.Empty;

    private readonly Action<ChatConnection>? _onClosing;

    public ChatConnection(string sessionId, WebSocket socket, ChatSocketOptions options, TimeProvider time, ILogger logger, Action<ChatConnection>? onClosing = null)
    {
        _onClosing = onClosing;
        SessionId = sessionId;
        _socket = socket;
        _options = options;
        _time = time;
        _logger = logger;
        _outbox = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.SendQueueCapacity + ControlReserve)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _idle = time.CreateTimer(static state => ((ChatConnection)state!).OnIdle(), this, options.IdleTimeout, Timeout.InfiniteTimeSpan);
    }

    public string SessionId { get; }

    /// <summary>The tenant that opened the socket (it owns the session: checked before the upgrade).</summary>
    public string? Tenant { get; init; }

    /// <summary>The close code the node chose (0: none; the client closed, or the connection broke).</summary>
    public int CloseCode => Volatile.Read(ref _closeCode);

    /// <summary>Messages waiting in the send queue (a diagnostic).</summary>
    public int Queued => _outbox.Reader.Count;

    /// <summary>Queues a message; false when the socket is closing or the queue is full (it is then closed with 4008).</summary>
    public bool Send(byte[] message)
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return false;
        }

        if (_outbox.Writer.TryWrite(message))
        {
            return true;
        }

        Close(ChatProtocol.CloseCodes.SlowConsumer, "send queue full: the client is not reading");
        return false;
    }

    /// <summary>
    /// Waits while the send queue is at its capacity (a stream's backpressure). A socket whose backlog has not
    /// cleared (its queue never ran empty) for <see cref="ChatSocketOptions.SendTimeout"/> since it first filled
    /// is closed with 4008, and the wait ends.
    /// </summary>
    public ValueTask WaitForSpaceAsync()
    {
        if (Queued < _options.SendQueueCapacity || Volatile.Read(ref _closing) != 0)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(WaitSlowAsync());
    }

    private async Task WaitSlowAsync()
    {
        var since = Volatile.Read(ref _backlogSince);
        if (since == 0)
        {
            since = _time.GetTimestamp();
            Interlocked.CompareExchange(ref _backlogSince, since, 0);
        }

        var left = _options.SendTimeout - _time.GetElapsedTime(since);
        if (left <= TimeSpan.Zero)
        {
            Close(ChatProtocol.CloseCodes.SlowConsumer, "send queue full: the client is not reading");
            return;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _spaceWaiter, waiter);
        if (Queued < _options.SendQueueCapacity || Volatile.Read(ref _closing) != 0)
        {
            waiter.TrySetResult();
        }

        try
        {
            await waiter.Task.WaitAsync(left, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Close(ChatProtocol.CloseCodes.SlowConsumer, "send queue full: the client is not reading");
        }
    }

    /// <summary>Starts the node's side of the close handshake once; the connection is aborted if it does not finish in time.</summary>
    public void Close(int code, string reason)
    {
        if (Interlocked.CompareExchange(ref _closing, 1, 0) != 0)
        {
            return;
        }

        _closeReason = reason;
        Volatile.Write(ref _closeCode, code);
        _outbox.Writer.TryComplete();
        Interlocked.Exchange(ref _spaceWaiter, null)?.TrySetResult();
        _closeDeadline = _time.CreateTimer(static state => ((ChatConnection)state!).Abort(), this, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
        LogClosing(SessionId, code, reason);
        _onClosing?.Invoke(this);
    }

    /// <summary>Runs the connection until it closes: <paramref name="onMessage"/> gets each complete text message, one at a time.</summary>
    public async Task RunAsync(Func<ChatConnection, ReadOnlyMemory<byte>, ValueTask> onMessage, Action<ChatConnection, ProtocolError> onBadFrame)
    {
        var sending = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync(onMessage, onBadFrame).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client vanished or the connection was aborted: nothing more to read.
        }
        finally
        {
            // The client closed (the handshake is answered) or the connection broke (the send loop stops).
            Close(1000, string.Empty);
            await sending.ConfigureAwait(false);
        }
    }

    private async Task ReceiveLoopAsync(Func<ChatConnection, ReadOnlyMemory<byte>, ValueTask> onMessage, Action<ChatConnection, ProtocolError> onBadFrame)
    {
        var chunk = new byte[ReceiveChunkBytes];
        ArrayBufferWriter<byte>? assembled = null;
        var oversize = false;
        while (true)
        {
            var result = await _socket.ReceiveAsync(chunk.AsMemory(), _aborted.Token).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (Volatile.Read(ref _closing) != 0)
            {
                // Closing: what the client still sends is read and dropped until its close frame arrives.
                continue;
            }

            _idle.Change(_options.IdleTimeout, Timeout.InfiniteTimeSpan);
            var size = (assembled?.WrittenCount ?? 0) + result.Count;
            if (size > _options.MaxMessageBytes)
            {
                oversize = true;
            }

            if (oversize)
            {
                Close(WebSocketCloseStatusCodes.MessageTooBig, $"message over {_options.MaxMessageBytes} bytes");
                continue;
            }

            ReadOnlyMemory<byte> message;
            if (result.EndOfMessage && assembled is null)
            {
                message = chunk.AsMemory(0, result.Count);
            }
            else
            {
                assembled ??= new ArrayBufferWriter<byte>(Math.Min(_options.MaxMessageBytes, 4 * ReceiveChunkBytes));
                assembled.Write(chunk.AsSpan(0, result.Count));
                if (!result.EndOfMessage)
                {
                    continue;
                }

                message = assembled.WrittenMemory;
            }

            if (result.MessageType == WebSocketMessageType.Binary)
            {
                onBadFrame(this, new ProtocolError(ChatProtocol.Codes.BinaryNotSupported, "Send JSON text messages; binary frames are not part of the protocol."));
            }
            else
            {
                await onMessage(this, message).ConfigureAwait(false);
            }

            assembled = null;
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            var reader = _outbox.Reader;
            while (await reader.WaitToReadAsync(_aborted.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    if (Volatile.Read(ref _spaceWaiter) is not null && reader.Count < _options.SendQueueCapacity)
                    {
                        Interlocked.Exchange(ref _spaceWaiter, null)?.TrySetResult();
                    }

                    if (CloseCode is ChatProtocol.CloseCodes.SlowConsumer)
                    {
                        // A slow consumer is closed at once, not after the backlog it could not read.
                        break;
                    }

                    await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _aborted.Token).ConfigureAwait(false);
                }

                if (CloseCode is ChatProtocol.CloseCodes.SlowConsumer)
                {
                    break;
                }

                // The client has caught up: its backlog clock starts again.
                Volatile.Write(ref _backlogSince, 0);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var code = CloseCode == 0 ? 1000 : CloseCode;
                await _socket.CloseOutputAsync((WebSocketCloseStatus)code, _closeReason, _aborted.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Aborted or broken: the receive loop ends too.
        }
    }

    private void OnIdle() => Close(ChatProtocol.CloseCodes.Idle, "idle timeout");

    private void Abort()
    {
        try
        {
            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                LogAborted(SessionId, CloseCode);
            }

            _aborted.Cancel();
            _socket.Abort();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _idle.DisposeAsync().ConfigureAwait(false);
        if (_closeDeadline is { } deadline)
        {
            await deadline.DisposeAsync().ConfigureAwait(false);
        }

        _aborted.Dispose();
        _socket.Dispose();
    }

    [LoggerMessage(LogEvents.Sockets + 0, LogLevel.Debug, "Session {SessionId}: closing a socket with {Code} ({Reason})")]
    private partial void LogClosing(string sessionId, int code, string reason);

    [LoggerMessage(LogEvents.Sockets + 1, LogLevel.Information, "Session {SessionId}: socket aborted, its close handshake ({Code}) did not finish in time")]
    private partial void LogAborted(string sessionId, int code);

    /// <summary>Standard close codes the protocol uses that <see cref="WebSocketCloseStatus"/> names differently.</summary>
    private static class WebSocketCloseStatusCodes
    {
        public const int MessageTooBig = (int)WebSocketCloseStatus.MessageTooBig;
    }
}
