using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>Many callers on one session at once, over sockets and HTTP together: exact counts.</summary>
[Collection(GatewayCollection.Name)]
public sealed class WebSocketConcurrencyTests(GatewayFixture gateway)
{
    [Fact]
    public async Task EightTabsSendAtOnce_ExactlyOneTurnStartsSevenAreRefused()
    {
        // Eight: the most sockets a session may have by default (Chat:MaxSocketsPerSession).
        var sessionId = GatewayFixture.NewSessionId();
        var tabs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId)));
        try
        {
            await Task.WhenAll(tabs.Select(t => t.ReceiveAsync()));
            var callsBefore = await gateway.ModelCallsAsync();

            // On the shared node's frozen clock the paced stream stops after its first token, so the turn that
            // starts stays in progress. Each tab pings after its message: its pong comes after its own answer.
            await Task.WhenAll(tabs.Select(async t =>
            {
                await t.SendUserMessageAsync("[[sim:tokens=100]] [[sim:pace=1000]]");
                await t.SendAsync(new JsonObject { ["type"] = "ping" });
            }));
            var seen = await Task.WhenAll(tabs.Select(t => t.ReceiveUntilAsync("pong")));

            seen.Sum(s => s.OfType("error").Count(e => (string?)e["code"] == "turn-in-progress")).ShouldBe(7);
            (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 1);
            await tabs[0].SendAsync(new JsonObject { ["type"] = "cancel" });
            var ends = await Task.WhenAll(tabs.Select(t => t.ReceiveUntilAsync("done")));
            ends.Select(e => (string?)e.Last()["finish_reason"]).ShouldAllBe(reason => reason == "cancelled");

            // Every tab saw exactly one user message accepted.
            seen.Zip(ends, (a, b) => a.Concat(b).OfType("user_message").Count()).ShouldAllBe(n => n == 1);
        }
        finally
        {
            foreach (var tab in tabs)
            {
                await tab.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task SocketAgentAndFiftyHttpContinuationsRace_ExactlyFiveModelCallsForTheTask()
    {
        const string task = "[[sim:loop]] Keep looking.";
        var sessionId = GatewayFixture.NewSessionId();
        await using var socket = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await socket.ReceiveAsync();
        var callsBefore = await gateway.ModelCallsAsync();
        await socket.SendUserMessageAsync(task);
        var call = (await socket.ReceiveUntilAsync("done")).OfType("tool_call").Single();

        // The same task continued over HTTP, fifty times at once (the first user message is the same one).
        var history = new JsonNode[] { Chat.User(task), Chat.AssistantToolCall("call_http"), Chat.Tool("call_http", "nothing") };
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            gateway.PostChatAsync(sessionId, Chat.Request("haiku", history.Select(n => n.DeepClone()), tools: true))));
        var tripped = responses.Count(r => r.Headers.Contains("X-Gateway-Trip"));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        await socket.SendToolResultAsync((string)call["call_id"]!, "nothing");
        var refused = await socket.ReceiveUntilAsync("fallback");

        tripped.ShouldBe(46);
        ((string?)refused[^1]["reason"]).ShouldBe("loop_limit");
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);
        ((int)(await gateway.GetSessionAsync(sessionId))["loopCount"]!).ShouldBe(5);
    }
}
