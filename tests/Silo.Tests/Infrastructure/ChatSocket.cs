using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// A real <see cref="ClientWebSocket"/> on <c>/v1/sessions/{id}/ws</c> that reads the gateway's JSON messages.
/// Every read has a 30 s guard so a broken server fails the test instead of hanging it.
/// </summary>
public sealed class ChatSocket : IAsyncDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker? _invoker;
    private readonly byte[] _buffer = new byte[1024 * 1024];

    private ChatSocket(string sessionId, ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        SessionId = sessionId;
        _socket = socket;
        _invoker = invoker;
    }

    public string SessionId { get; }

    public WebSocket Socket => _socket;

    /// <summary>Connects; <paramref name="receiveBufferBytes"/> shrinks the client's TCP receive buffer (a slow reader fills up sooner).</summary>
    public static async Task<ChatSocket> ConnectAsync(Uri baseAddress, string sessionId, int? receiveBufferBytes = null)
    {
        var socket = new ClientWebSocket();
        HttpMessageInvoker? invoker = null;
        var uri = new UriBuilder(baseAddress) { Scheme = "ws", Path = $"/v1/sessions/{sessionId}/ws" }.Uri;
        using var guard = new CancellationTokenSource(Guard);
        if (receiveBufferBytes is { } size)
        {
            invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, ct) =>
                {
                    var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = size };
                    await tcp.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(tcp, ownsSocket: true);
                },
            });
            await socket.ConnectAsync(uri, invoker, guard.Token);
        }
        else
        {
            await socket.ConnectAsync(uri, guard.Token);
        }

        return new ChatSocket(sessionId, socket, invoker);
    }

    public Task SendAsync(JsonObject message) => SendTextAsync(message.ToJsonString());

    public async Task SendTextAsync(string text)
    {
        using var guard = new CancellationTokenSource(Guard);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, guard.Token);
    }

    public async Task SendBinaryAsync(byte[] data)
    {
        using var guard = new CancellationTokenSource(Guard);
        await _socket.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, guard.Token);
    }

    public Task SendUserMessageAsync(string text, string? model = null)
    {
        var message = new JsonObject { ["type"] = "user_message", ["text"] = text };
        if (model is not null)
        {
            message["model"] = model;
        }

        return SendAsync(message);
    }

    public Task SendToolResultAsync(string callId, string content)
        => SendAsync(new JsonObject { ["type"] = "tool_result", ["call_id"] = callId, ["content"] = content });

    /// <summary>The next message; fails when the socket closes instead.</summary>
    public async Task<JsonObject> ReceiveAsync()
    {
        var message = await ReceiveOrCloseAsync();
        return message ?? throw new ShouldAssertException($"The socket closed ({_socket.CloseStatus} {_socket.CloseStatusDescription}) instead of sending a message.");
    }

    /// <summary>Messages up to and including the first of type <paramref name="type"/>.</summary>
    public async Task<List<JsonObject>> ReceiveUntilAsync(params string[] types)
    {
        var messages = new List<JsonObject>();
        while (true)
        {
            var message = await ReceiveAsync();
            messages.Add(message);
            if (types.Contains((string?)message["type"]))
            {
                return messages;
            }
        }
    }

    /// <summary>Reads (and drops) messages until the server's close frame; returns its code.</summary>
    public async Task<int> ReceiveCloseAsync()
    {
        while (await ReceiveOrCloseAsync() is not null)
        {
        }

        return (int)_socket.CloseStatus!.Value;
    }

    private async Task<JsonObject?> ReceiveOrCloseAsync()
    {
        using var guard = new CancellationTokenSource(Guard);
        var length = 0;
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer.AsMemory(length), guard.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (_socket.State == WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, guard.Token);
                }

                return null;
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                result.MessageType.ShouldBe(WebSocketMessageType.Text);
                return JsonNode.Parse(_buffer.AsSpan(0, length))!.AsObject();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var guard = new CancellationTokenSource(Guard);
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, guard.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        _socket.Dispose();
        _invoker?.Dispose();
    }
}

/// <summary>Reading the gateway's chat messages.</summary>
public static class ChatMessages
{
    public static string? Type(this JsonObject message) => (string?)message["type"];

    public static IEnumerable<JsonObject> OfType(this IEnumerable<JsonObject> messages, string type) => messages.Where(m => m.Type() == type);

    /// <summary>The text of the token messages, concatenated.</summary>
    public static string Tokens(this IEnumerable<JsonObject> messages) => string.Concat(messages.OfType("token").Select(m => (string?)m["text"]));
}
