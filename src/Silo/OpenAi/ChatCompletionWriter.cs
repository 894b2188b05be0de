using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.OpenAi;

/// <summary>What one completion (or one streamed chunk) says, independent of how it is framed.</summary>
public readonly record struct CompletionPayload(
    string Id,
    long Created,
    string Model,
    string? Text,
    IReadOnlyList<FunctionCallContent>? ToolCalls,
    string? FinishReason,
    long? PromptTokens,
    long? CompletionTokens);

/// <summary>
/// Writes OpenAI's <c>chat.completion</c> and <c>chat.completion.chunk</c> JSON straight into the
/// response's buffer (no intermediate objects on the hot path).
/// </summary>
public static class ChatCompletionWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public static string FinishReasonOf(ChatFinishReason? reason, bool hasToolCalls)
    {
        if (reason == ChatFinishReason.ToolCalls || (reason is null && hasToolCalls))
        {
            return "tool_calls";
        }

        if (reason == ChatFinishReason.Length)
        {
            return "length";
        }

        return reason == ChatFinishReason.ContentFilter ? "content_filter" : "stop";
    }

    /// <summary>A whole non-streamed completion.</summary>
    public static void WriteCompletion(IBufferWriter<byte> output, in CompletionPayload payload)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        WriteHeader(json, payload, "chat.completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        if (payload.Text is null)
        {
            json.WriteNull("content");
        }
        else
        {
            json.WriteString("content", payload.Text);
        }

        WriteToolCalls(json, payload.ToolCalls, streamIndex: null);
        json.WriteNull("refusal");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", payload.FinishReason ?? "stop");
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, payload);
        json.WriteEndObject();
    }

    /// <summary>One SSE event <c>data: {chunk}\n\n</c>; <paramref name="role"/> is sent on the first chunk only.</summary>
    /// <param name="firstToolCallIndex">The stream-wide index of this chunk's first tool call (tool calls sent before it).</param>
    /// <param name="cutOff">A live cut-off: written as <c>"gateway": {"trip": …, "fallback": …}</c>, an extension clients ignore.</param>
    public static void WriteChunk(
        IBufferWriter<byte> output,
        in CompletionPayload payload,
        bool role,
        bool usageOnly = false,
        int firstToolCallIndex = 0,
        (string Trip, string Fallback)? cutOff = null)
    {
        output.Write("data: "u8);
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            json.WriteStartObject();
            WriteHeader(json, payload, "chat.completion.chunk");
            json.WriteStartArray("choices");
            if (!usageOnly)
            {
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                json.WriteStartObject("delta");
                if (role)
                {
                    json.WriteString("role", "assistant");
                }

                if (payload.Text is not null)
                {
                    json.WriteString("content", payload.Text);
                }

                WriteToolCalls(json, payload.ToolCalls, streamIndex: firstToolCallIndex);
                json.WriteEndObject();
                json.WriteNull("logprobs");
                if (payload.FinishReason is null)
                {
                    json.WriteNull("finish_reason");
                }
                else
                {
                    json.WriteString("finish_reason", payload.FinishReason);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (usageOnly)
            {
                WriteUsage(json, payload);
            }

            if (cutOff is { } note)
            {
                json.WriteStartObject("gateway");
                json.WriteString("trip", note.Trip);
                json.WriteString("fallback", note.Fallback);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        output.Write("\n\n"u8);
    }

    public static void WriteDone(IBufferWriter<byte> output) => output.Write("data: [DONE]\n\n"u8);

    /// <summary>The error event that ends a stream the model broke off (OpenAI's error object, the gateway's code).</summary>
    public static void WriteStreamError(IBufferWriter<byte> output, int upstreamStatus)
    {
        output.Write("data: "u8);
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", $"The model failed mid-stream (status {upstreamStatus}).");
            json.WriteString("type", "server_error");
            json.WriteString("code", "model-failed-mid-stream");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        output.Write("\n\n"u8);
    }

    private static void WriteHeader(Utf8JsonWriter json, in CompletionPayload payload, string kind)
    {
        json.WriteString("id", payload.Id);
        json.WriteString("object", kind);
        json.WriteNumber("created", payload.Created);
        json.WriteString("model", payload.Model);
        json.WriteNull("system_fingerprint");
    }

    private static void WriteToolCalls(Utf8JsonWriter json, IReadOnlyList<FunctionCallContent>? calls, int? streamIndex)
    {
        if (calls is not { Count: > 0 })
        {
            return;
        }

        json.WriteStartArray("tool_calls");
        for (var i = 0; i < calls.Count; i++)
        {
            var call = calls[i];
            json.WriteStartObject();
            if (streamIndex is { } first)
            {
                json.WriteNumber("index", first + i);
            }

            json.WriteString("id", call.CallId);
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", call.Name);
            json.WriteString("arguments", call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions));
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter json, in CompletionPayload payload)
    {
        if (payload.PromptTokens is null && payload.CompletionTokens is null)
        {
            json.WriteNull("usage");
            return;
        }

        var prompt = payload.PromptTokens ?? 0;
        var completion = payload.CompletionTokens ?? 0;
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", prompt);
        json.WriteNumber("completion_tokens", completion);
        json.WriteNumber("total_tokens", prompt + completion);
        json.WriteEndObject();
    }
}
