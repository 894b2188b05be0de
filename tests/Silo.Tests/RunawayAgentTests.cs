using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>The loop limit end to end: a tool-calling agent that never stops gets five model calls per task.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RunawayAgentTests(GatewayFixture gateway)
{
    private const string LoopingTask = "[[sim:loop]] Find the cheapest flight to Lisbon.";

    [Fact]
    public async Task ChatCompletions_RunawayToolLoop_FiveModelCallsThenFallbackUntilResumed()
    {
        var agent = new ScriptedAgent(gateway, GatewayFixture.NewSessionId());
        var callsBefore = await gateway.ModelCallsAsync();
        long tokens = 0;
        var toolCallIds = new HashSet<string>();

        var turn = await agent.SayAsync(LoopingTask);
        for (var call = 1; call <= 5; call++)
        {
            turn.Route.ShouldBe("primary");
            turn.Trip.ShouldBeNull();
            turn.LoopCount.ShouldBe(call.ToString(System.Globalization.CultureInfo.InvariantCulture));
            turn.FinishReason.ShouldBe("tool_calls");
            turn.Message["content"].ShouldBeNull();
            var toolCall = turn.Message["tool_calls"]!.AsArray().ShouldHaveSingleItem()!;
            ((string)toolCall["type"]!).ShouldBe("function");
            ((string)toolCall["function"]!["name"]!).ShouldBe("lookup");
            toolCallIds.Add((string)toolCall["id"]!).ShouldBeTrue();
            tokens += turn.TotalTokens;
            turn = await agent.AskAsync();
        }

        // The sixth answer is the gateway's, not the model's.
        turn.Route.ShouldBe("deterministic");
        turn.Trip.ShouldBe("loop_limit");
        turn.LoopCount.ShouldBe("5");
        turn.Content.ShouldBe(GatewayFixture.Fallback);
        turn.FinishReason.ShouldBe("stop");
        turn.Message.ContainsKey("tool_calls").ShouldBeFalse();
        turn.TotalTokens.ShouldBe(0);
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);

        var session = await gateway.GetSessionAsync(agent.SessionId);
        ((string)session["sessionId"]!).ShouldBe(agent.SessionId);
        ((string)session["status"]!).ShouldBe("tripped");
        ((string)session["tripReason"]!).ShouldBe("loop_limit");
        ((int)session["loopCount"]!).ShouldBe(5);
        ((int)session["maxLoops"]!).ShouldBe(5);
        ((long)session["modelCalls"]!).ShouldBe(5);
        ((long)session["tokensInWindow"]!).ShouldBe(tokens);

        // A seventh request, still looping, is refused without a model call.
        var seventh = await agent.AskAsync();
        seventh.Route.ShouldBe("deterministic");
        seventh.Trip.ShouldBe("loop_limit");
        seventh.Content.ShouldBe(GatewayFixture.Fallback);
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);

        using (var resume = await gateway.Http.PostAsync($"/admin/sessions/{agent.SessionId}/resume", content: null))
        {
            resume.StatusCode.ShouldBe(HttpStatusCode.OK);
            var resumed = await resume.ReadJsonAsync();
            ((string)resumed["status"]!).ShouldBe("active");
            resumed["tripReason"].ShouldBeNull();
            resumed["trippedAt"].ShouldBeNull();
            ((int)resumed["loopCount"]!).ShouldBe(0);
            ((long)resumed["modelCalls"]!).ShouldBe(5);
            ((long)resumed["tokensInWindow"]!).ShouldBe(0);
        }

        // The human speaks again: the model answers.
        var answer = await agent.SayAsync("Thanks. Summarize what you found.");
        answer.Route.ShouldBe("primary");
        answer.Trip.ShouldBeNull();
        answer.LoopCount.ShouldBe("1");
        answer.Content.ShouldBe(Chat.DefaultAnswer);
        answer.FinishReason.ShouldBe("stop");
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 6);

        var after = await gateway.GetSessionAsync(agent.SessionId);
        ((string)after["status"]!).ShouldBe("active");
        ((int)after["loopCount"]!).ShouldBe(1);
        ((long)after["modelCalls"]!).ShouldBe(6);
    }

    [Fact]
    public async Task ChatCompletions_OldHistoryResent_LoopCountNotReset()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var agent = new ScriptedAgent(gateway, sessionId);
        (await agent.SayAsync(LoopingTask)).LoopCount.ShouldBe("1");
        (await agent.AskAsync()).LoopCount.ShouldBe("2");
        (await agent.AskAsync()).LoopCount.ShouldBe("3");

        // The agent restarts from its first message: the same task, so the count goes on.
        var restart = new ScriptedAgent(gateway, sessionId);
        var resent = await restart.SayAsync(LoopingTask);
        resent.Route.ShouldBe("primary");
        resent.LoopCount.ShouldBe("4");
        (await restart.AskAsync()).LoopCount.ShouldBe("5");

        var refused = await restart.AskAsync();
        refused.Route.ShouldBe("deterministic");
        refused.Trip.ShouldBe("loop_limit");

        // Re-sending the first message once tripped is refused too.
        var again = await new ScriptedAgent(gateway, sessionId).SayAsync(LoopingTask);
        again.Route.ShouldBe("deterministic");
        again.Trip.ShouldBe("loop_limit");
        again.Content.ShouldBe(GatewayFixture.Fallback);

        var session = await gateway.GetSessionAsync(sessionId);
        ((int)session["loopCount"]!).ShouldBe(5);
        ((long)session["modelCalls"]!).ShouldBe(5);
    }

    [Fact]
    public async Task ChatCompletions_500ConcurrentContinuations_ExactlyFiveModelCalls()
    {
        const int requests = 500;
        var sessionId = GatewayFixture.NewSessionId();
        var body = Chat.Request(
            "haiku",
            [Chat.User(LoopingTask), Chat.AssistantToolCall("call_seed"), Chat.Tool("call_seed", "no flights yet")],
            tools: true);
        var callsBefore = await gateway.ModelCallsAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, requests).Select(async _ =>
        {
            using var response = await gateway.PostChatAsync(sessionId, body);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var message = (await response.ReadJsonAsync()).Message();
            return (
                Route: response.Header("X-Gateway-Route"),
                Trip: response.Header("X-Gateway-Trip"),
                LoopCount: response.Header("X-Gateway-Loop-Count"),
                Content: (string?)message["content"],
                ToolCalls: message["tool_calls"]?.AsArray().Count ?? 0);
        }));

        var primary = answers.Where(a => a.Route == "primary").ToList();
        var fallback = answers.Where(a => a.Route == "deterministic").ToList();
        primary.Count.ShouldBe(5);
        fallback.Count.ShouldBe(495);
        primary.Select(a => a.LoopCount).Order().ShouldBe(["1", "2", "3", "4", "5"]);
        primary.ShouldAllBe(a => a.ToolCalls == 1 && a.Trip == null);
        fallback.ShouldAllBe(a => a.Content == GatewayFixture.Fallback && a.Trip == "loop_limit" && a.ToolCalls == 0 && a.LoopCount == "5");
        (await gateway.ModelCallsAsync()).ShouldBe(callsBefore + 5);

        var session = await gateway.GetSessionAsync(sessionId);
        ((string)session["status"]!).ShouldBe("tripped");
        ((int)session["loopCount"]!).ShouldBe(5);
        ((long)session["modelCalls"]!).ShouldBe(5);
    }

    [Fact]
    public async Task ChatCompletions_TokenBudgetSpent_TripsOnTokenVelocity()
    {
        var sessionId = GatewayFixture.NewSessionId();

        // 10,000 words out in one call fill the 10,000-token budget of the window (the clock stands still).
        using (var big = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "[[sim:tokens=10000]]")))
        {
            big.Header("X-Gateway-Route").ShouldBe("primary");
            ((long)(await big.ReadJsonAsync())["usage"]!["completion_tokens"]!).ShouldBe(10_000);
        }

        var spent = await gateway.GetSessionAsync(sessionId);
        ((long)spent["tokensInWindow"]!).ShouldBe(10_005);
        ((long)spent["tokenBudget"]!).ShouldBe(10_000);
        ((int)spent["windowSeconds"]!).ShouldBe(60);
        ((string)spent["status"]!).ShouldBe("active");

        // Even a new task is refused: velocity is per session, not per task.
        using var refused = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "Something else entirely."));

        refused.StatusCode.ShouldBe(HttpStatusCode.OK);
        refused.Header("X-Gateway-Route").ShouldBe("deterministic");
        refused.Header("X-Gateway-Trip").ShouldBe("token_velocity");
        ((string?)(await refused.ReadJsonAsync()).Message()["content"]).ShouldBe(GatewayFixture.Fallback);
        var session = await gateway.GetSessionAsync(sessionId);
        ((string)session["status"]!).ShouldBe("tripped");
        ((string)session["tripReason"]!).ShouldBe("token_velocity");
        ((long)session["modelCalls"]!).ShouldBe(1);
    }

    [Fact]
    public async Task ChatCompletions_ConfiguredMaxLoops_TripsAtThatLimit()
    {
        await using var factory = new GatewayFactory(new Dictionary<string, string> { ["Governance:MaxLoops"] = "2" });
        var baseAddress = factory.StartOnKestrel();
        using var http = new HttpClient { BaseAddress = baseAddress };
        var body = Chat.Request("haiku", [Chat.User(LoopingTask)], tools: true);
        var sessionId = GatewayFixture.NewSessionId();

        var routes = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
            request.Headers.Add("X-Session-Id", sessionId);
            using var response = await http.SendAsync(request);
            routes.Add(response.Header("X-Gateway-Route"));
        }

        routes.ShouldBe(["primary", "primary", "deterministic"]);
        var session = await http.GetFromJsonAsync<JsonObject>($"/admin/sessions/{sessionId}");
        ((int)session!["maxLoops"]!).ShouldBe(2);
        ((long)session["modelCalls"]!).ShouldBe(2);
    }
}
