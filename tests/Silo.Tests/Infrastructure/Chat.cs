using System.Net.Http.Json;
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

    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response)
        => (await response.Content.ReadFromJsonAsync<JsonObject>())!;

    /// <summary>The single header value, or null when the header is absent.</summary>
    public static string? Header(this HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    public static JsonObject Choice(this JsonObject completion) => completion["choices"]!.AsArray().Single()!.AsObject();

    public static JsonObject Message(this JsonObject completion) => completion.Choice()["message"]!.AsObject();
}
