using System.Buffers;
using System.Text.Json;
using AgentGateway.Contracts.Sessions;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// The chat socket's JSON messages the node sends (docs/websocket.md; <see cref="ChatProtocolParser"/> reads the
/// client's). Each message is encoded once into a byte array and the same array is queued on every socket.
/// </summary>
public static class ChatProtocol
{
    public static class Codes
    {
        public const string InvalidJson = "invalid-json";
        public const string UnknownType = "unknown-type";
        public const string InvalidMessage = "invalid-message";
        public const string BinaryNotSupported = "binary-not-supported";
        public const string UnknownModel = "unknown-model";
        public const string TurnInProgress = "turn-in-progress";
        public const string UnknownToolCall = "unknown-tool-call";
        public const string ToolTimeout = "tool-timeout";
        public const string SessionBusy = "session-busy";
        public const string SessionForbidden = "session-forbidden";
        public const string RateLimited = "rate-limited";
    }

    /// <summary>Close codes the node uses besides the standard ones.</summary>
    public static class CloseCodes
    {
        public const int Idle = 4001;
        public const int SlowConsumer = 4008;
        public const int TooManySockets = 4029;
    }

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public static byte[] UserMessage(string text, string model) => Write((text, model), static (json, m) =>
    {
        json.WriteString("type", "user_message");
        json.WriteString("text", m.text);
        json.WriteString("model", m.model);
    });

    public static byte[] Token(string text) => Write(text, static (json, t) =>
    {
        json.WriteString("type", "token");
        json.WriteString("text", t);
    });

    public static byte[] ToolCall(FunctionCallContent call) => Write(call, static (json, c) =>
    {
        json.WriteString("type", "tool_call");
        WriteCall(json, c);
    });

    public static byte[] ToolResult(string callId, string content) => Write((callId, content), static (json, r) =>
    {
        json.WriteString("type", "tool_result");
        json.WriteString("call_id", r.callId);
        json.WriteString("content", r.content);
    });

    public static byte[] Done(string finishReason, string? route, string? model, int loopCount, long inputTokens, long outputTokens)
        => Write((finishReason, route, model, loopCount, inputTokens, outputTokens), static (json, d) =>
        {
            json.WriteString("type", "done");
            json.WriteString("finish_reason", d.finishReason);
            WriteStringOrNull(json, "route", d.route);
            WriteStringOrNull(json, "model", d.model);
            json.WriteNumber("loop_count", d.loopCount);
            json.WriteStartObject("usage");
            json.WriteNumber("input_tokens", d.inputTokens);
            json.WriteNumber("output_tokens", d.outputTokens);
            json.WriteEndObject();
        });

    public static byte[] Fallback(string reason, string text) => Write((reason, text), static (json, f) =>
    {
        json.WriteString("type", "fallback");
        json.WriteString("reason", f.reason);
        json.WriteString("text", f.text);
    });

    public static byte[] Error(string code, string message) => Write((code, message), static (json, e) =>
    {
        json.WriteString("type", "error");
        json.WriteString("code", e.code);
        json.WriteString("message", e.message);
    });

    /// <summary>A <c>user_message</c> refused by the tenant's rate limit: an <c>error</c> with the limit and the wait in whole seconds.</summary>
    public static byte[] RateLimited(string limit, long retryAfterSeconds, string message) => Write((limit, retryAfterSeconds, message), static (json, e) =>
    {
        json.WriteString("type", "error");
        json.WriteString("code", Codes.RateLimited);
        json.WriteString("message", e.message);
        json.WriteString("limit", e.limit);
        json.WriteNumber("retry_after", e.retryAfterSeconds);
    });

    public static byte[] Pong(string? id) => Write(id, static (json, i) =>
    {
        json.WriteString("type", "pong");
        if (i is null)
        {
            json.WriteNull("id");
        }
        else
        {
            json.WritePropertyName("id");
            json.WriteRawValue(i, skipInputValidation: true);
        }
    });

    /// <summary>The first message on every connection: the session's governance view and the conversation so far.</summary>
    public static byte[] State(SessionView session, string phase, IReadOnlyCollection<FunctionCallContent> pending, string partial, IReadOnlyList<ChatMessage> history)
        => Write((session, phase, pending, partial, history), static (json, s) =>
        {
            json.WriteString("type", "state");
            json.WriteStartObject("session");
            json.WriteString("sessionId", s.session.SessionId);
            json.WriteString("status", s.session.Status);
            WriteStringOrNull(json, "tripReason", s.session.TripReason);
            json.WriteNumber("loopCount", s.session.LoopCount);
            json.WriteNumber("maxLoops", s.session.MaxLoops);
            json.WriteNumber("modelCalls", s.session.ModelCalls);
            json.WriteNumber("tokensInWindow", s.session.TokensInWindow);
            json.WriteNumber("tokenBudget", s.session.TokenBudget);
            json.WriteNumber("windowSeconds", s.session.WindowSeconds);
            json.WriteEndObject();
            json.WriteString("phase", s.phase);
            json.WriteStartArray("pending_tool_calls");
            foreach (var call in s.pending)
            {
                json.WriteStartObject();
                WriteCall(json, call);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("partial", s.partial);
            json.WriteStartArray("history");
            foreach (var message in s.history)
            {
                if (message.Role == ChatRole.Tool)
                {
                    // One entry per result, so parallel tool calls each keep theirs.
                    foreach (var result in message.Contents.OfType<FunctionResultContent>())
                    {
                        json.WriteStartObject();
                        json.WriteString("role", "tool");
                        json.WriteString("text", result.Result?.ToString() ?? string.Empty);
                        json.WriteString("call_id", result.CallId);
                        json.WriteEndObject();
                    }

                    continue;
                }

                WriteHistoryEntry(json, message);
            }

            json.WriteEndArray();
        });

    private static void WriteHistoryEntry(Utf8JsonWriter json, ChatMessage message)
    {
        json.WriteStartObject();
        json.WriteString("role", message.Role.Value);
        string? text = null;
        List<FunctionCallContent>? calls = null;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent t:
                    text = text is null ? t.Text : text + t.Text;
                    break;
                case FunctionCallContent call:
                    (calls ??= []).Add(call);
                    break;
            }
        }

        json.WriteString("text", text ?? string.Empty);
        if (calls is not null)
        {
            json.WriteStartArray("tool_calls");
            foreach (var call in calls)
            {
                json.WriteStartObject();
                WriteCall(json, call);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void WriteCall(Utf8JsonWriter json, FunctionCallContent call)
    {
        json.WriteString("call_id", call.CallId);
        json.WriteString("name", call.Name);
        json.WritePropertyName("arguments");
        if (call.Arguments is null)
        {
            json.WriteStartObject();
            json.WriteEndObject();
        }
        else
        {
            JsonSerializer.Serialize(json, call.Arguments, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)));
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Json)? t_writer;

    /// <summary>Encodes one message with this thread's reusable writer; the result is the only allocation.</summary>
    private static byte[] Write<T>(T state, Action<Utf8JsonWriter, T> body)
    {
        var (buffer, json) = t_writer ??= NewWriter();
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        json.WriteStartObject();
        body(json, state);
        json.WriteEndObject();
        json.Flush();
        var message = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 64 * 1024)
        {
            // A large state message: don't keep its buffer on the thread.
            t_writer = null;
        }

        return message;
    }

    private static (ArrayBufferWriter<byte>, Utf8JsonWriter) NewWriter()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        return (buffer, new Utf8JsonWriter(buffer, WriterOptions));
    }
}
