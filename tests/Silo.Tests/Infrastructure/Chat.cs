using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>Builds OpenAI chat completion request bodies as a client would send them.</summary>
public static class Chat
{
    public const string DefaultAnswer = "This is a simulated answer from haiku.";

    public static JsonObject User(string text) => new() { ["role"] = "user", ["content"] = text };

    public static JsonObject System(string text) => new() { ["role"] = "system", ["content"] = text };

    public static JsonObject Tool(string toolCallId, string result) => new()
    {
        ["role"] = "tool",
        ["tool_call_id"] = toolCallId,
        ["content"] = result,
    };

    /// <summary>An assistant message that called <c>lookup</c> with the given id.</summary>
    public static JsonObject AssistantToolCall(string toolCallId) => new()
    {
        ["role"] = "assistant",
        ["content"] = null,
        ["tool_calls"] = new JsonArray
        {
            new JsonObject
            {
                ["id"] = toolCallId,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "lookup", ["arguments"] = """{"query":"seed"}""" },
            },
        },
    };

    /// <summary>The <c>lookup</c> function tool, as OpenAI clients declare it.</summary>
    public static JsonArray LookupTool() =>
    [
        new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = "lookup",
                ["description"] = "Looks something up.",
                ["parameters"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["query"] = new JsonObject { ["type"] = "string" } },
                    ["required"] = new JsonArray("query"),
                },
            },
        },
    ];

    public static JsonObject Request(string model, IEnumerable<JsonNode> messages, bool tools = false, bool stream = false, bool includeUsage = false)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray([.. messages.Select(m => m.DeepClone())]),
        };
        if (tools)
        {
            body["tools"] = LookupTool();
        }

        if (stream)
        {
            body["stream"] = true;
        }

        if (includeUsage)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return body;
    }

    public static JsonObject Request(string model, string userText, bool stream = false, bool includeUsage = false)
        => Request(model, [User(userText)], stream: stream, includeUsage: includeUsage);

    /// <summary>A continuation of a tool loop the simulator never leaves (<c>[[sim:loop]]</c>): every call is one more loop.</summary>
    public static JsonObject LoopRequest() =>
        Request("haiku", [User("stuck [[sim:loop]]"), AssistantToolCall("call_1"), Tool("call_1", "no luck")], tools: true);

    /// <summary>Five continuations reach the loop limit (5); the sixth is refused and trips the session (<c>loop_limit</c>).</summary>
    public static async Task TripAsync(HttpClient http, string session)
    {
        for (var call = 1; call <= 6; call++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(LoopRequest().ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Session-Id", session);
            using var response = await http.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            if (call == 6)
            {
                response.Header("X-Gateway-Trip").ShouldBe("loop_limit");
            }
        }
    }

    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response)
        => (await response.Content.ReadFromJsonAsync<JsonObject>())!;

    /// <summary>The single header value, or null when the header is absent.</summary>
    public static string? Header(this HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    public static JsonObject Choice(this JsonObject completion) => completion["choices"]!.AsArray().Single()!.AsObject();

    public static JsonObject Message(this JsonObject completion) => completion.Choice()["message"]!.AsObject();
}
