using System.Text.Json;
using AgentGateway.Silo.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Models;

namespace AgentGateway.Silo.Tests;

/// <summary>The official OpenAI .NET client, unmodified but for its base URL, against the gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiClientTests(GatewayFixture gateway)
{
    [Fact]
    public async Task CompleteChatAsync_PlainQuestion_ReturnsTextAndUsage()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var client = gateway.OpenAiChatClient("haiku", sessionId);

        var result = await client.CompleteChatAsync([new UserChatMessage("Say hello.")]);

        var completion = result.Value;
        completion.Role.ShouldBe(ChatMessageRole.Assistant);
        completion.Content.ShouldHaveSingleItem().Text.ShouldBe(Chat.DefaultAnswer);
        completion.FinishReason.ShouldBe(ChatFinishReason.Stop);
        completion.ToolCalls.ShouldBeEmpty();
        completion.Model.ShouldBe("haiku");
        completion.Id.ShouldStartWith("chatcmpl-");
        completion.CreatedAt.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(gateway.CreatedNow));
        completion.Usage.InputTokenCount.ShouldBe(3);
        completion.Usage.OutputTokenCount.ShouldBe(7);
        completion.Usage.TotalTokenCount.ShouldBe(10);
        var raw = result.GetRawResponse();
        raw.Headers.TryGetValue("X-Session-Id", out var echoed).ShouldBeTrue();
        echoed.ShouldBe(sessionId);
        raw.Headers.TryGetValue("X-Gateway-Route", out var route).ShouldBeTrue();
        route.ShouldBe("primary");
    }

    [Fact]
    public async Task CompleteChatStreamingAsync_PlainQuestion_TextConcatenatesAndFinishesWithStop()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var client = gateway.OpenAiChatClient("haiku", sessionId);
        var text = new System.Text.StringBuilder();
        var finishReasons = new List<ChatFinishReason>();
        ChatTokenUsage? usage = null;

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Say hello.")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            if (update.FinishReason is { } reason)
            {
                finishReasons.Add(reason);
            }

            usage = update.Usage ?? usage;
        }

        text.ToString().ShouldBe(Chat.DefaultAnswer);
        finishReasons.ShouldBe([ChatFinishReason.Stop]);
        usage.ShouldNotBeNull();
        usage.InputTokenCount.ShouldBe(3);
        usage.OutputTokenCount.ShouldBe(7);
        var session = await gateway.GetSessionAsync(sessionId);
        ((long)session["modelCalls"]!).ShouldBe(1);
        ((long)session["tokensInWindow"]!).ShouldBe(10);
    }

    [Fact]
    public async Task CompleteChatAsync_ToolCallRoundTrip_ModelCallsToolAgainOnSameTask()
    {
        var sessionId = GatewayFixture.NewSessionId();
        var client = gateway.OpenAiChatClient("haiku", sessionId);
        var options = new ChatCompletionOptions
        {
            Tools =
            {
                ChatTool.CreateFunctionTool(
                    "find_flight",
                    "Finds flights.",
                    BinaryData.FromString("""{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}""")),
            },
        };
        List<ChatMessage> messages = [new UserChatMessage("[[sim:loop]] Find a flight to Lisbon.")];

        var first = (await client.CompleteChatAsync(messages, options)).Value;

        first.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
        var call = first.ToolCalls.ShouldHaveSingleItem();
        call.Kind.ShouldBe(ChatToolCallKind.Function);
        call.FunctionName.ShouldBe("find_flight");
        using (var arguments = JsonDocument.Parse(call.FunctionArguments))
        {
            arguments.RootElement.GetProperty("query").GetString().ShouldStartWith("step ");
        }

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "TP1350, 89 EUR"));
        var secondResult = await client.CompleteChatAsync(messages, options);

        var second = secondResult.Value;
        second.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
        second.ToolCalls.ShouldHaveSingleItem().Id.ShouldNotBe(call.Id);
        secondResult.GetRawResponse().Headers.TryGetValue("X-Gateway-Loop-Count", out var loops).ShouldBeTrue();
        loops.ShouldBe("2");
        var session = await gateway.GetSessionAsync(sessionId);
        ((int)session["loopCount"]!).ShouldBe(2);
        ((long)session["modelCalls"]!).ShouldBe(2);
    }

    [Fact]
    public async Task CompleteChatAsync_TrippedSession_ClientSeesFallbackAsNormalAnswer()
    {
        var agent = new ScriptedAgent(gateway, GatewayFixture.NewSessionId());
        await agent.RunUntilTrippedAsync("[[sim:loop]] Keep going.");
        var client = gateway.OpenAiChatClient("haiku", agent.SessionId);

        var result = await client.CompleteChatAsync([new UserChatMessage("[[sim:loop]] Keep going.")]);

        result.Value.Content.ShouldHaveSingleItem().Text.ShouldBe(GatewayFixture.Fallback);
        result.Value.FinishReason.ShouldBe(ChatFinishReason.Stop);
        result.Value.ToolCalls.ShouldBeEmpty();
        result.GetRawResponse().Headers.TryGetValue("X-Gateway-Trip", out var trip).ShouldBeTrue();
        trip.ShouldBe("loop_limit");
    }

    [Fact]
    public async Task CompleteChatAsync_UnknownModel_ClientExceptionCarriesGatewayMessage()
    {
        var client = gateway.OpenAiChatClient("gpt-9", GatewayFixture.NewSessionId());

        var exception = await Should.ThrowAsync<System.ClientModel.ClientResultException>(
            () => client.CompleteChatAsync([new UserChatMessage("Say hello.")]));

        exception.Status.ShouldBe(404);
        exception.Message.ShouldContain("Model 'gpt-9' is not served here. Served models: haiku, sonnet.");
    }

    [Fact]
    public async Task GetModelsAsync_OfficialModelClient_ListsHaikuAndSonnet()
    {
        var client = new OpenAIModelClient(new System.ClientModel.ApiKeyCredential("unused"), gateway.OpenAiOptions());

        var models = (await client.GetModelsAsync()).Value;

        models.Select(m => m.Id).ShouldBe(["haiku", "sonnet"]);
        models.ShouldAllBe(m => m.OwnedBy == "agent-gateway");
    }
}
