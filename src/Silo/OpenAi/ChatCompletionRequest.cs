using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentGateway.Silo.OpenAi;

/// <summary>The body of <c>POST /v1/chat/completions</c> (OpenAI's format); unknown fields are ignored.</summary>
public sealed class ChatCompletionRequest
{
    [JsonPropertyName("model")]
    public string? Model { get; set; }

    [JsonPropertyName("messages")]
    public List<ChatMessageDto?>? Messages { get; set; }

    [JsonPropertyName("stream")]
    public bool Stream { get; set; }

    [JsonPropertyName("stream_options")]
    public StreamOptionsDto? StreamOptions { get; set; }

    [JsonPropertyName("tools")]
    public List<ToolDto?>? Tools { get; set; }

    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; set; }

    [JsonPropertyName("max_completion_tokens")]
    public int? MaxCompletionTokens { get; set; }

    [JsonPropertyName("temperature")]
    public float? Temperature { get; set; }

    [JsonPropertyName("top_p")]
    public float? TopP { get; set; }
}

public sealed class StreamOptionsDto
{
    [JsonPropertyName("include_usage")]
    public bool IncludeUsage { get; set; }
}

public sealed class ChatMessageDto
{
    [JsonPropertyName("role")]
    public string? Role { get; set; }

    /// <summary>A string, an array of content parts (text parts are used), or null.</summary>
    [JsonPropertyName("content")]
    [JsonConverter(typeof(MessageContentConverter))]
    public string? Content { get; set; }

    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("tool_calls")]
    public List<ToolCallDto?>? ToolCalls { get; set; }

    [JsonPropertyName("tool_call_id")]
    public string? ToolCallId { get; set; }
}

public sealed class ToolCallDto
{
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("function")]
    public FunctionCallDto? Function { get; set; }
}

public sealed class FunctionCallDto
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("arguments")]
    public string? Arguments { get; set; }
}

public sealed class ToolDto
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("function")]
    public FunctionDefinitionDto? Function { get; set; }
}

public sealed class FunctionDefinitionDto
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("description")]
    public string? Description { get; set; }

    [JsonPropertyName("parameters")]
    public JsonElement? Parameters { get; set; }
}

/// <summary>Reads OpenAI message content: a string, or an array of parts whose <c>text</c> parts are joined.</summary>
public sealed class MessageContentConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.StartArray:
                string? text = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new JsonException("A content part must be an object.");
                    }

                    using var part = JsonDocument.ParseValue(ref reader);
                    if (part.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("text")
                        && part.RootElement.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        text = text is null ? value.GetString() : text + value.GetString();
                    }
                }

                return text ?? string.Empty;
            default:
                throw new JsonException("Message content must be a string, an array of content parts, or null.");
        }
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
        => writer.WriteStringValue(value);
}

[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = false,
    NumberHandling = JsonNumberHandling.Strict,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(ChatCompletionRequest))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext;
