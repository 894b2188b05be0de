using System.Text.Json;
using AgentGateway.Contracts.Conversations;

namespace AgentGateway.Silo.Conversations;

/// <summary>An <c>error</c> message's stable code and its explanation.</summary>
public readonly record struct ProtocolError(string Code, string Message);

/// <summary>Reads what clients send over the chat socket (docs/websocket.md); <see cref="ChatProtocol"/> writes what the node sends.</summary>
public static class ChatProtocolParser
{
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClientMessage message, out ProtocolError error)
    {
        message = default;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                throw new JsonException("Text follows the JSON value.");
            }
        }
        catch (JsonException ex)
        {
            error = new ProtocolError(ChatProtocol.Codes.InvalidJson, $"The message is not valid JSON: {ex.Message}");
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = new ProtocolError(ChatProtocol.Codes.InvalidJson, "The message must be a JSON object.");
                return false;
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                error = new ProtocolError(ChatProtocol.Codes.UnknownType, "The message has no string 'type'.");
                return false;
            }

            var type = typeElement.GetString();
            switch (type)
            {
                case "user_message":
                    if (!TryString(root, "text", required: true, out var text, out error) || !TryString(root, "model", required: false, out var model, out error))
                    {
                        return false;
                    }

                    if (string.IsNullOrWhiteSpace(text))
                    {
                        error = new ProtocolError(ChatProtocol.Codes.InvalidMessage, "'text' must not be empty.");
                        return false;
                    }

                    message = new ClientMessage(ClientMessageType.UserMessage, text, string.IsNullOrEmpty(model) ? null : model, null, null, null);
                    break;
                case "tool_result":
                    if (!TryString(root, "call_id", required: true, out var callId, out error))
                    {
                        return false;
                    }

                    if (!root.TryGetProperty("content", out var content) || content.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
                    {
                        error = new ProtocolError(ChatProtocol.Codes.InvalidMessage, "'tool_result' needs 'content'.");
                        return false;
                    }

                    var result = content.ValueKind == JsonValueKind.String ? content.GetString()! : content.GetRawText();
                    message = new ClientMessage(ClientMessageType.ToolResult, null, null, callId, result, null);
                    break;
                case "cancel":
                    message = new ClientMessage(ClientMessageType.Cancel, null, null, null, null, null);
                    break;
                case "ping":
                    var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.String or JsonValueKind.Number
                        ? idElement.GetRawText()
                        : null;
                    message = new ClientMessage(ClientMessageType.Ping, null, null, null, null, id);
                    break;
                default:
                    error = new ProtocolError(ChatProtocol.Codes.UnknownType, $"Unknown message type '{type}'. Send user_message, tool_result, cancel or ping.");
                    return false;
            }
        }

        error = default;
        return true;
    }

    private static bool TryString(JsonElement root, string name, bool required, out string? value, out ProtocolError error)
    {
        value = null;
        error = default;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                error = new ProtocolError(ChatProtocol.Codes.InvalidMessage, $"'{name}' is required.");
                return false;
            }

            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = new ProtocolError(ChatProtocol.Codes.InvalidMessage, $"'{name}' must be a string.");
            return false;
        }

        value = element.GetString();
        return true;
    }
}
