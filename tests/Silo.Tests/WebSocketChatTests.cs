using System.Net;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>The WebSocket chat (docs/websocket.md) through real <c>ClientWebSocket</c>s on the shared node.</summary>
[Collection(GatewayCollection.Name)]
public sealed class WebSocketChatTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Connect_FirstMessageIsStateOfAFreshSession()
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());

        var state = await socket.ReceiveAsync();

        state.Type().ShouldBe("state");
        ((string?)state["phase"]).ShouldBe("idle");
        ((string?)state["session"]!["status"]).ShouldBe("active");
        ((int)state["session"]!["loopCount"]!).ShouldBe(0);
        ((int)state["session"]!["maxLoops"]!).ShouldBe(5);
        ((long)state["session"]!["tokenBudget"]!).ShouldBe(10_000);
        state["history"]!.AsArray().ShouldBeEmpty();
        state["pending_tool_calls"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task UserMessage_TokensStreamInOrderThenDone()
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        await socket.SendUserMessageAsync("Say hello.");
        var messages = await socket.ReceiveUntilAsync("done");

        messages[0].Type().ShouldBe("user_message");
        ((string?)messages[0]["text"]).ShouldBe("Say hello.");
        ((string?)messages[0]["model"]).ShouldBe("haiku");
        messages.Skip(1).SkipLast(1).ShouldAllBe(m => m.Type() == "token");
        messages.Count(m => m.Type() == "token").ShouldBe(7);
        messages.Tokens().ShouldBe(Chat.DefaultAnswer);
        var done = messages[^1];
        ((string?)done["finish_reason"]).ShouldBe("stop");
        ((string?)done["route"]).ShouldBe("primary");
        ((string?)done["model"]).ShouldBe("haiku");
        ((int)done["loop_count"]!).ShouldBe(1);
        ((long)done["usage"]!["input_tokens"]!).ShouldBe(3);
        ((long)done["usage"]!["output_tokens"]!).ShouldBe(7);
    }

    [Fact]
    public async Task UserMessage_OtherModel_AnsweredByIt()
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        await socket.SendUserMessageAsync("Say hello.", "sonnet");
        var messages = await socket.ReceiveUntilAsync("done");

        messages.Tokens().ShouldBe("This is a simulated answer from sonnet.");
        ((string?)messages[^1]["model"]).ShouldBe("sonnet");
    }

    [Fact]
    public async Task ToolRoundTrip_ResultSentBack_NextModelCallCountsAsALoop()
    {
        var sessionId = GatewayFixture.NewSessionId();
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await socket.ReceiveAsync();

        await socket.SendUserMessageAsync("[[sim:loop]] Find the order.");
        var first = await socket.ReceiveUntilAsync("done");
        var call = first.OfType("tool_call").ShouldHaveSingleItem();
        ((string?)call["name"]).ShouldBe("lookup");
        call["arguments"]!["query"].ShouldNotBeNull();
        ((string?)first[^1]["finish_reason"]).ShouldBe("tool_calls");
        ((int)first[^1]["loop_count"]!).ShouldBe(1);

        await socket.SendToolResultAsync((string)call["call_id"]!, "order 42 is late");
        var second = await socket.ReceiveUntilAsync("done");

        second[0].ToJsonString().ShouldBe(new JsonObject { ["type"] = "tool_result", ["call_id"] = (string)call["call_id"]!, ["content"] = "order 42 is late" }.ToJsonString());
        second.OfType("tool_call").ShouldHaveSingleItem()["call_id"]!.ToString().ShouldNotBe((string)call["call_id"]!);
        ((int)second[^1]["loop_count"]!).ShouldBe(2);
        ((int)(await gateway.GetSessionAsync(sessionId))["loopCount"]!).ShouldBe(2);
    }

    [Fact]
    public async Task LoopDirective_ToolResultsSentBack_SixthModelCallRefusedWithLoopLimit()
    {
        var sessionId = GatewayFixture.NewSessionId();
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await socket.ReceiveAsync();
        var callsBefore = await gateway.ModelCallsAsync();

        await socket.SendUserMessageAsync("[[sim:loop]] Keep looking.");
        var loopCounts = new List<int>();
        List<JsonObject> messages;
        while (true)
        {
            messages = await socket.ReceiveUntilAsync("done", "fallback");
            if (messages[^1].Type() == "fallback")
            {
                break;
            }

            loopCounts.Add((int)messages[^1]["loop_count"]!);
            await socket.SendToolResultAsync((string)messages.OfType("tool_call").Single()["call_id"]!, "nothing yet");
        }

        loopCounts.ShouldBe([1, 2, 3, 4, 5]);
        ((string?)messages[^1]["reason"]).ShouldBe("loop_limit");
        ((string?)messages[^1]["text"]).ShouldBe(GatewayFixture.Fallback);
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);
        var session = await gateway.GetSessionAsync(sessionId);
        ((string?)session["status"]).ShouldBe("tripped");
        ((string?)session["tripReason"]).ShouldBe("loop_limit");

        // Tripped: a new user message is refused too, with no model call.
        await socket.SendUserMessageAsync("Try again.");
        var refused = await socket.ReceiveUntilAsync("fallback");
        ((string?)refused[^1]["reason"]).ShouldBe("loop_limit");
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);
    }

    [Fact]
    public async Task TwentyThousandTokens_CutOffAtTheBudget_UpstreamCancelledAndSessionTripped()
    {
        var sessionId = GatewayFixture.NewSessionId();
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await socket.ReceiveAsync();
        var cancelledBefore = (long)(await gateway.ModelStatsAsync("haiku"))["cancellations"]!;

        // "[[sim:tokens=20000]]" is 20 characters: 5 input tokens reserved, 9,995 left for the answer.
        await socket.SendUserMessageAsync("[[sim:tokens=20000]]");
        var messages = await socket.ReceiveUntilAsync("fallback", "done");

        messages[^1].Type().ShouldBe("fallback");
        ((string?)messages[^1]["reason"]).ShouldBe("token_velocity");
        var delivered = messages.OfType("token").Sum(m => GatewayTokens((string)m["text"]!));
        const long remaining = 10_000 - 5;
        delivered.ShouldBeLessThanOrEqualTo(remaining);
        delivered.ShouldBeGreaterThan(remaining - 2);
        ((long)(await gateway.ModelStatsAsync("haiku"))["cancellations"]!).ShouldBe(cancelledBefore + 1);
        var session = await gateway.GetSessionAsync(sessionId);
        ((string?)session["status"]).ShouldBe("tripped");
        ((string?)session["tripReason"]).ShouldBe("token_velocity");
    }

    [Fact]
    public async Task TwoSockets_OneSession_BothReceiveTheSameEventsInOrder()
    {
        var sessionId = GatewayFixture.NewSessionId();
        await using var tabA = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await using var tabB = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await tabA.ReceiveAsync();
        await tabB.ReceiveAsync();

        await tabA.SendUserMessageAsync("[[sim:tokens=40]]");
        var seenByA = await tabA.ReceiveUntilAsync("done");
        var seenByB = await tabB.ReceiveUntilAsync("done");

        seenByA.Count.ShouldBe(42);
        seenByB.Select(m => m.ToJsonString()).ShouldBe(seenByA.Select(m => m.ToJsonString()));
    }

    [Fact]
    public async Task Reconnect_StateCarriesTheConversationSoFar()
    {
        var sessionId = GatewayFixture.NewSessionId();
        await using (var first = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId))
        {
            await first.ReceiveAsync();
            await first.SendUserMessageAsync("Say hello.");
            await first.ReceiveUntilAsync("done");
        }

        await using var again = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        var state = await again.ReceiveAsync();

        state.Type().ShouldBe("state");
        ((string?)state["phase"]).ShouldBe("idle");
        ((int)state["session"]!["loopCount"]!).ShouldBe(1);
        ((long)state["session"]!["tokensInWindow"]!).ShouldBe(10);
        var history = state["history"]!.AsArray();
        history.Select(h => (string?)h!["role"]).ShouldBe(["user", "assistant"]);
        history[1]!.AsObject().ContainsKey("tool_calls").ShouldBeFalse();
        ((string?)history[0]!["text"]).ShouldBe("Say hello.");
        ((string?)history[1]!["text"]).ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task SlowStream_SecondUserMessageRefusedThenCancelStopsTheUpstreamCall()
    {
        var sessionId = GatewayFixture.NewSessionId();
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await socket.ReceiveAsync();
        var cancelledBefore = (long)(await gateway.ModelStatsAsync("haiku"))["cancellations"]!;

        // The shared node's clock stands still: after its first token the paced stream waits for ever.
        await socket.SendUserMessageAsync("[[sim:tokens=100]] [[sim:pace=1000]]");
        var started = await socket.ReceiveUntilAsync("token");
        await socket.SendUserMessageAsync("Another question.");
        var busy = await socket.ReceiveUntilAsync("error");

        // A socket that joins now sees the stream in progress.
        await using var late = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        var state = await late.ReceiveAsync();

        await socket.SendAsync(new JsonObject { ["type"] = "cancel" });
        var ended = await socket.ReceiveUntilAsync("done");

        started.Tokens().ShouldBe("the");
        ((string?)busy[^1]["code"]).ShouldBe("turn-in-progress");
        ((string?)state["phase"]).ShouldBe("streaming");
        ((string?)state["partial"]).ShouldBe("the");
        ((string?)ended[^1]["finish_reason"]).ShouldBe("cancelled");
        ((long)(await gateway.ModelStatsAsync("haiku"))["cancellations"]!).ShouldBe(cancelledBefore + 1);
        (await late.ReceiveUntilAsync("done")).Tokens().ShouldBe(string.Empty);

        // Idle again: the next message is answered.
        await socket.SendUserMessageAsync("Say hello.");
        (await socket.ReceiveUntilAsync("done")).Tokens().ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task Ping_AnsweredWithPongEchoingTheId()
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        await socket.SendAsync(new JsonObject { ["type"] = "ping", ["id"] = "p-1" });
        var pong = await socket.ReceiveAsync();

        pong.ToJsonString().ShouldBe("""{"type":"pong","id":"p-1"}""");
    }

    [Theory]
    [InlineData("{not json", "invalid-json")]
    [InlineData("[1,2]", "invalid-json")]
    [InlineData("""{"type":"dance"}""", "unknown-type")]
    [InlineData("""{"text":"no type"}""", "unknown-type")]
    [InlineData("""{"type":"user_message"}""", "invalid-message")]
    [InlineData("""{"type":"user_message","text":42}""", "invalid-message")]
    [InlineData("""{"type":"user_message","text":"hi","model":"gpt-17"}""", "unknown-model")]
    [InlineData("""{"type":"tool_result","call_id":"call_nobody","content":"x"}""", "unknown-tool-call")]
    [InlineData("""{"type":"tool_result","call_id":"call_nobody"}""", "invalid-message")]
    public async Task BadMessage_ErrorWithStableCode_SocketStaysUsable(string frame, string code)
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        await socket.SendTextAsync(frame);
        var error = await socket.ReceiveAsync();

        error.Type().ShouldBe("error");
        ((string?)error["code"]).ShouldBe(code);
        ((string?)error["message"]).ShouldNotBeNullOrWhiteSpace();
        await socket.SendUserMessageAsync("Say hello.");
        (await socket.ReceiveUntilAsync("done")).Tokens().ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task BinaryFrame_ErrorBinaryNotSupported_SocketStaysUsable()
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        await socket.SendBinaryAsync([1, 2, 3]);
        var error = await socket.ReceiveAsync();

        ((string?)error["code"]).ShouldBe("binary-not-supported");
        await socket.SendAsync(new JsonObject { ["type"] = "ping" });
        (await socket.ReceiveAsync()).Type().ShouldBe("pong");
    }

    [Fact]
    public async Task OversizeMessage_ClosedWith1009_OtherSocketsKeepServing()
    {
        await using var bystander = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await bystander.ReceiveAsync();
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();

        await socket.SendUserMessageAsync(new string('x', 64 * 1024));
        var code = await socket.ReceiveCloseAsync();

        code.ShouldBe(1009);
        await bystander.SendUserMessageAsync("Say hello.");
        (await bystander.ReceiveUntilAsync("done")).Tokens().ShouldBe(Chat.DefaultAnswer);
    }

    [Fact]
    public async Task MessageJustUnderTheLimit_Accepted()
    {
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, GatewayFixture.NewSessionId());
        await socket.ReceiveAsync();
        var text = new string('x', (64 * 1024) - """{"type":"user_message","text":""}""".Length);

        await socket.SendUserMessageAsync(text);
        var echo = await socket.ReceiveAsync();

        ((string?)echo["text"]).ShouldBe(text);
    }

    [Fact]
    public async Task PlainGet_400WebSocketRequired()
    {
        using var response = await gateway.Http.GetAsync($"/v1/sessions/{GatewayFixture.NewSessionId()}/ws");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "websocket-required");
    }

    [Fact]
    public async Task InvalidSessionId_400BeforeUpgrade()
    {
        using var response = await gateway.Http.GetAsync("/v1/sessions/bad%20id/ws");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-session-id");
    }

    /// <summary>The gateway's count for a chunk: a quarter of its characters rounded up, at least one.</summary>
    private static long GatewayTokens(string text) => Math.Max(1, (text.Length + 3) / 4);
}
