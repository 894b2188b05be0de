using System.Net;
using System.Text.Json.Nodes;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// A scripted tool-using agent: keeps the conversation, and after each tool call answers with a tool
/// result and asks again, the way agent frameworks drive a model.
/// </summary>
public sealed class ScriptedAgent(GatewayFixture gateway, string sessionId, string model = "haiku")
{
    private readonly List<JsonNode> _history = [];

    public string SessionId { get; } = sessionId;

    public IReadOnlyList<JsonNode> History => _history;

    /// <summary>The human speaks: appends a user message and asks the model.</summary>
    public Task<Turn> SayAsync(string text)
    {
        _history.Add(Chat.User(text));
        return AskAsync();
    }

    /// <summary>Asks the model with the history as it stands; a tool call is answered with a tool result for the next turn.</summary>
    public async Task<Turn> AskAsync()
    {
        using var response = await gateway.PostChatAsync(SessionId, Chat.Request(model, _history, tools: true));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var turn = new Turn(
            await response.ReadJsonAsync(),
            response.Header("X-Gateway-Route"),
            response.Header("X-Gateway-Trip"),
            response.Header("X-Gateway-Loop-Count"));
        if (turn.Message["tool_calls"] is JsonArray calls)
        {
            var assistant = turn.Message.DeepClone().AsObject();
            _history.Add(assistant);
            foreach (var call in calls)
            {
                _history.Add(Chat.Tool((string)call!["id"]!, "result of " + (string)call["function"]!["arguments"]!));
            }
        }

        return turn;
    }

    /// <summary>Drives the loop until the gateway trips it: five tool calls, then the refusal (asserted on the way).</summary>
    public async Task<Turn> RunUntilTrippedAsync(string task)
    {
        var turn = await SayAsync(task);
        for (var call = 1; call <= 5; call++)
        {
            turn.Route.ShouldBe("primary");
            turn.FinishReason.ShouldBe("tool_calls");
            turn.LoopCount.ShouldBe(call.ToString(System.Globalization.CultureInfo.InvariantCulture));
            turn = await AskAsync();
        }

        turn.Trip.ShouldBe("loop_limit");
        return turn;
    }

    public sealed record Turn(JsonObject Completion, string? Route, string? Trip, string? LoopCount)
    {
        public JsonObject Message => Completion.Message();

        public string? FinishReason => (string?)Completion.Choice()["finish_reason"];

        public string? Content => (string?)Message["content"];

        public long TotalTokens => (long)Completion["usage"]!["total_tokens"]!;
    }
}
