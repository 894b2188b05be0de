using System.Text.Json;

namespace AgentGateway.LoadGen.Ws;

/// <summary>The server message types of docs/websocket.md.</summary>
internal enum ServerMessageType
{
    Unknown,
    State,
    UserMessage,
    Token,
    ToolCall,
    Done,
    Fallback,
    Error,
    Pong,
}

/// <summary>
/// The fields of a server message the load generator acts on. Parsed straight from the frame's UTF-8 bytes; a token
/// message (the hot path) allocates nothing, the rare ones allocate their few strings.
/// </summary>
internal readonly record struct ServerMessage(ServerMessageType Type, string? Detail, string? CallId)
{
    public static ServerMessage Parse(ReadOnlySpan<byte> utf8)
    {
        var type = ServerMessageType.Unknown;
        string? detail = null;
        string? callId = null;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new ServerMessage(ServerMessageType.Unknown, "not-an-object", null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = TypeOf(ref reader);
                }
                else if (reader.ValueTextEquals("finish_reason"u8) || reader.ValueTextEquals("reason"u8) || reader.ValueTextEquals("code"u8))
                {
                    reader.Read();
                    detail = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("call_id"u8))
                {
                    reader.Read();
                    callId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return new ServerMessage(ServerMessageType.Unknown, "invalid-json", null);
        }

        return new ServerMessage(type, detail, callId);
    }

    private static ServerMessageType TypeOf(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return ServerMessageType.Unknown;
        }

        return reader.ValueTextEquals("token"u8) ? ServerMessageType.Token
            : reader.ValueTextEquals("state"u8) ? ServerMessageType.State
            : reader.ValueTextEquals("user_message"u8) ? ServerMessageType.UserMessage
            : reader.ValueTextEquals("done"u8) ? ServerMessageType.Done
            : reader.ValueTextEquals("fallback"u8) ? ServerMessageType.Fallback
            : reader.ValueTextEquals("tool_call"u8) ? ServerMessageType.ToolCall
            : reader.ValueTextEquals("error"u8) ? ServerMessageType.Error
            : reader.ValueTextEquals("pong"u8) ? ServerMessageType.Pong
            : ServerMessageType.Unknown;
    }
}
