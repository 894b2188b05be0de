using AgentGateway.Silo.Conversations;
using AgentGateway.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The chat socket's limits on nodes of their own, with fake time: idle timeout (4001), slow consumer (4008),
/// too many sockets (4029), the tool-result timeout, and 1001 when the node stops.
/// </summary>
public sealed class WebSocketLimitsTests
{
    [Fact]
    public async Task SilentClient_ClosedWith4001AfterTheIdleTimeout()
    {
        await using var node = new OwnNode(new Dictionary<string, string> { ["Chat:IdleTimeout"] = "00:07:00" });
        await using var socket = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        node.Time.Advance(TimeSpan.FromMinutes(7));

        (await socket.ReceiveCloseAsync()).ShouldBe(4001);
    }

    [Fact]
    public async Task ClientMessages_ResetTheIdleClock()
    {
        await using var node = new OwnNode(new Dictionary<string, string> { ["Chat:IdleTimeout"] = "00:07:00" });
        await using var socket = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();
        node.Time.Advance(TimeSpan.FromMinutes(6));

        var rearmed = node.Time.WhenTimerArmed(TimeSpan.FromMinutes(7));
        await socket.SendAsync(new System.Text.Json.Nodes.JsonObject { ["type"] = "ping" });
        await rearmed;
        node.Time.Advance(TimeSpan.FromMinutes(6));
        (await socket.ReceiveAsync()).Type().ShouldBe("pong");
        socket.Socket.State.ShouldBe(System.Net.WebSockets.WebSocketState.Open);

        node.Time.Advance(TimeSpan.FromMinutes(1));
        (await socket.ReceiveCloseAsync()).ShouldBe(4001);
    }

    [Fact]
    public async Task ReaderThatStopsReading_ClosedWith4008OnceItsQueueStaysFull()
    {
        await using var node = new OwnNode(new Dictionary<string, string>
        {
            ["Chat:SendQueueCapacity"] = "8",
            ["Chat:SendTimeout"] = "00:00:13",
            ["Chat:IdleTimeout"] = "1.00:00:00",
            ["Governance:TokenBudget"] = "1000000000",
        });
        var sessionId = GatewayFixture.NewSessionId();
        await using var socket = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, sessionId, receiveBufferBytes: 4096);
        await socket.ReceiveAsync();
        var closing = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Services.GetRequiredService<ChatConversations>().Closing += c =>
        {
            if (c.SessionId == sessionId)
            {
                closing.TrySetResult(c.CloseCode);
            }
        };
        var backlog = node.Time.WhenTimerArmed(TimeSpan.FromSeconds(13));

        // The client reads nothing while a million tokens stream: the TCP buffers fill, then the socket's queue,
        // and the stream waits on it. A timer armed for the full 13 s is a backlog that has just begun (the
        // queue filled after running empty); each time one begins, the test lets 13 s pass. While the TCP
        // buffers still take data the queue runs empty again and the clock restarts; once they are full the
        // backlog never clears and the socket is closed.
        await socket.SendUserMessageAsync("[[sim:tokens=1000000]]");
        long? held = null;
        while (await Task.WhenAny(backlog, closing.Task).WaitAsync(TimeSpan.FromSeconds(60)) == backlog)
        {
            // Both may have completed (the stream re-armed its wait just before the close began): letting 13 s more
            // pass then would run out the close handshake's own deadline.
            if (closing.Task.IsCompleted)
            {
                break;
            }

            held ??= (long)(await node.GetSessionAsync(sessionId))["tokensInWindow"]!;
            backlog = node.Time.WhenTimerArmed(TimeSpan.FromSeconds(13));
            node.Time.Advance(TimeSpan.FromSeconds(13));
        }

        (await closing.Task).ShouldBe(4008);

        // Held, not buffered: when the queue first filled, the stream had paid for a small part of the answer.
        held.ShouldNotBeNull().ShouldBeLessThan(500_000);

        // What was in flight arrives, then the close frame with the documented code.
        (await socket.ReceiveCloseAsync()).ShouldBe(4008);
    }

    [Fact]
    public async Task ToolResultNeverSent_ToolTimeoutErrorAndTheSessionTakesNewMessages()
    {
        await using var node = new OwnNode(new Dictionary<string, string> { ["Chat:ToolResultTimeout"] = "00:00:45" });
        await using var socket = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();
        await socket.SendUserMessageAsync("[[sim:loop]] Find it.");
        var call = (await socket.ReceiveUntilAsync("done")).OfType("tool_call").Single();

        node.Time.Advance(TimeSpan.FromSeconds(45));
        var timeout = await socket.ReceiveAsync();
        await socket.SendToolResultAsync((string)call["call_id"]!, "too late");
        var late = await socket.ReceiveAsync();
        await socket.SendUserMessageAsync("Say hello.");
        var answer = await socket.ReceiveUntilAsync("done");

        ((string?)timeout["code"]).ShouldBe("tool-timeout");
        ((string?)late["code"]).ShouldBe("unknown-tool-call");
        answer.Tokens().ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task OneSocketTooMany_ClosedWith4029_OthersUnaffected()
    {
        await using var node = new OwnNode(new Dictionary<string, string> { ["Chat:MaxSocketsPerSession"] = "2" });
        var sessionId = GatewayFixture.NewSessionId();
        await using var first = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, sessionId);
        await using var second = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, sessionId);
        await first.ReceiveAsync();
        await second.ReceiveAsync();

        await using var third = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, sessionId);

        (await third.ReceiveCloseAsync()).ShouldBe(4029);
        await first.SendUserMessageAsync("Say hello.");
        (await second.ReceiveUntilAsync("done")).Tokens().ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task NodeStops_SocketsClosedWith1001()
    {
        var node = new OwnNode(new Dictionary<string, string>());
        await using var socket = await ChatSocket.ConnectAsync(node.Http.BaseAddress!, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        var closed = socket.ReceiveCloseAsync();
        await node.DisposeAsync();

        (await closed).ShouldBe(1001);
    }
}
