using System.Buffers;
using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text.Json;

namespace AgentGateway.LoadGen.Ws;

/// <summary>
/// One chat session over one <see cref="ClientWebSocket"/>: connects, sends a <c>user_message</c> once the server's
/// <c>state</c> arrives, reads tokens, answers tool calls, and after <c>done</c> (or a pause after <c>fallback</c>)
/// sends the next message, until the run closes it. One receive loop and one small buffer per socket.
/// </summary>
/// <remarks>
/// Sends happen from the receive loop and, once, from the closing run; a small gate keeps them one at a time, as a
/// WebSocket requires. The run reads <see cref="LastTokenTimestamp"/> and <see cref="IsOpen"/> once a second to count
/// the sessions that are streaming.
/// </remarks>
internal sealed class WsSession(int index, Uri uri, WsOptions options, ReadOnlyMemory<byte> userMessage, WsStats stats)
{
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private ClientWebSocket? _socket;
    private long _lastTokenTimestamp;
    private long _sentAt;
    private bool _awaitingFirstToken;
    private volatile bool _closing;
    private volatile bool _open;

    public int Index { get; } = index;

    /// <summary><see cref="Stopwatch"/> timestamp of the last token (0: none yet).</summary>
    public long LastTokenTimestamp => Volatile.Read(ref _lastTokenTimestamp);

    public bool IsOpen => _open;

    /// <summary>Set by the run's stall accounting: the session is in a silence longer than the stall limit.</summary>
    public bool InStall { get; set; }

    /// <summary>The run's stall accounting: silences longer than the stall limit during the hold.</summary>
    public int Stalls { get; set; }

    public async Task RunAsync(HttpMessageInvoker invoker, CancellationToken stop)
    {
        var socket = new ClientWebSocket();
        // Only the application protocol is measured: no client pings (the server's keep-alive pings are answered).
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        _socket = socket;
        stats.ConnectStarted();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(options.ConnectTimeout);
            await socket.ConnectAsync(uri, invoker, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            stats.ConnectFailures.Add(ConnectFailureKind(ex, socket, stop));
            socket.Dispose();
            return;
        }
        finally
        {
            stats.ConnectEnded();
        }

        stats.Connect.Record(Stopwatch.GetElapsedTime(started));
        socket.HttpResponseHeaders = null; // kept only to name a failed handshake's status
        var connected = Stopwatch.GetTimestamp();
        _open = true;
        stats.Opened();
        try
        {
            await ReceiveLoopAsync(socket, connected, stop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException or HttpRequestException)
        {
            stats.SocketErrors.Add((_closing ? "while-closing:" : string.Empty) + SocketErrorKind(ex));
        }
        finally
        {
            _open = false;
            stats.Closed();
            socket.Dispose();
        }
    }

    /// <summary>Starts a normal close (1000); the receive loop ends when the server's close frame arrives.</summary>
    public async Task CloseAsync()
    {
        _closing = true;
        if (_socket is not { State: WebSocketState.Open } socket)
        {
            return;
        }

        await _sendGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "load test over", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            stats.SocketErrors.Add("close:" + SocketErrorKind(ex));
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>Gives up on a session that did not finish its close in time.</summary>
    public void Abort() => _socket?.Abort();

    private async Task ReceiveLoopAsync(ClientWebSocket socket, long connected, CancellationToken stop)
    {
        var buffer = new byte[options.ReceiveBufferBytes];
        byte[]? large = null;
        var largeLength = 0;
        var first = true;
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    var code = socket.CloseStatus is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none";
                    if (_closing)
                    {
                        stats.Closes.Add("client-closed, server answered " + code);
                    }
                    else
                    {
                        stats.Closes.Add("server-closed " + code);
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                    }

                    return;
                }

                ServerMessage message;
                if (large is null && result.EndOfMessage)
                {
                    message = ServerMessage.Parse(buffer.AsSpan(0, result.Count));
                }
                else
                {
                    // A message larger than the buffer (a long `state` history): gather it in a pooled array.
                    large ??= ArrayPool<byte>.Shared.Rent(buffer.Length * 4);
                    if (largeLength + result.Count > large.Length)
                    {
                        var grown = ArrayPool<byte>.Shared.Rent((largeLength + result.Count) * 2);
                        large.AsSpan(0, largeLength).CopyTo(grown);
                        ArrayPool<byte>.Shared.Return(large);
                        large = grown;
                    }

                    buffer.AsSpan(0, result.Count).CopyTo(large.AsSpan(largeLength));
                    largeLength += result.Count;
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    message = ServerMessage.Parse(large.AsSpan(0, largeLength));
                    ArrayPool<byte>.Shared.Return(large);
                    large = null;
                    largeLength = 0;
                }

                if (first)
                {
                    first = false;
                    stats.FirstMessage.Record(Stopwatch.GetElapsedTime(connected));
                }

                await HandleAsync(socket, message, stop).ConfigureAwait(false);
            }
        }
        finally
        {
            if (large is not null)
            {
                ArrayPool<byte>.Shared.Return(large);
            }
        }
    }

    private async Task HandleAsync(ClientWebSocket socket, ServerMessage message, CancellationToken stop)
    {
        switch (message.Type)
        {
            case ServerMessageType.Token:
                var now = Stopwatch.GetTimestamp();
                Volatile.Write(ref _lastTokenTimestamp, now);
                stats.TokenReceived();
                if (_awaitingFirstToken)
                {
                    _awaitingFirstToken = false;
                    stats.FirstToken.Record(Stopwatch.GetElapsedTime(_sentAt, now));
                }

                break;
            case ServerMessageType.State:
                // The first message on every connection: the session's state. The conversation starts now (unless the
                // run measures silent sockets: connected, never speaking).
                if (!options.Silent)
                {
                    await SendUserMessageAsync(socket, TimeSpan.Zero, stop).ConfigureAwait(false);
                }

                break;
            case ServerMessageType.UserMessage:
            case ServerMessageType.Pong:
                break;
            case ServerMessageType.ToolCall:
                await SendAsync(socket, ToolResult(message.CallId ?? string.Empty)).ConfigureAwait(false);
                break;
            case ServerMessageType.Done:
                stats.Done.Add(message.Detail ?? "none");
                if (message.Detail != "tool_calls")
                {
                    // After tool calls the node makes the next model call itself; otherwise the turn is over.
                    await SendUserMessageAsync(socket, options.Think, stop).ConfigureAwait(false);
                }

                break;
            case ServerMessageType.Fallback:
                stats.Fallbacks.Add(message.Detail ?? "none");
                await SendUserMessageAsync(socket, options.FallbackPause, stop).ConfigureAwait(false);
                break;
            case ServerMessageType.Error:
                stats.ServerErrors.Add(message.Detail ?? "none");
                if (message.Detail == "session-busy")
                {
                    await SendUserMessageAsync(socket, options.FallbackPause, stop).ConfigureAwait(false);
                }

                break;
            default:
                stats.ServerErrors.Add("unexpected-message:" + (message.Detail ?? "unknown-type"));
                break;
        }
    }

    private async Task SendUserMessageAsync(ClientWebSocket socket, TimeSpan delay, CancellationToken stop)
    {
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        _sentAt = Stopwatch.GetTimestamp();
        _awaitingFirstToken = true;
        if (await SendAsync(socket, userMessage).ConfigureAwait(false))
        {
            stats.UserMessageSent();
        }
    }

    /// <summary>Sends one text message unless the session is closing; false when it was not sent.</summary>
    private async Task<bool> SendAsync(ClientWebSocket socket, ReadOnlyMemory<byte> message)
    {
        await _sendGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closing || socket.State != WebSocketState.Open)
            {
                return false;
            }

            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private static byte[] ToolResult(string callId)
    {
        var output = new ArrayBufferWriter<byte>(96);
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, "tool_result"u8);
            json.WriteString("call_id"u8, callId);
            json.WriteString("content"u8, "ok (agent-loadgen)"u8);
            json.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static string ConnectFailureKind(Exception ex, ClientWebSocket socket, CancellationToken stop)
    {
        if (socket.HttpStatusCode != 0 && (int)socket.HttpStatusCode != 101)
        {
            return $"http-{(int)socket.HttpStatusCode}";
        }

        if (ex is OperationCanceledException)
        {
            return stop.IsCancellationRequested ? "stopped" : "timeout";
        }

        return SocketErrorKind(ex);
    }

    /// <summary>A short, stable name for a socket failure: the innermost socket error when there is one.</summary>
    private static string SocketErrorKind(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException socketError)
            {
                return "socket-" + socketError.SocketErrorCode;
            }
        }

        return ex switch
        {
            WebSocketException ws => "websocket-" + ws.WebSocketErrorCode,
            OperationCanceledException => "canceled",
            _ => ex.GetType().Name,
        };
    }
}
