using System.Text.Json;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Problems;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.OpenAi;

/// <summary>A validated chat request in Microsoft.Extensions.AI terms, plus what governance needs from it.</summary>
public sealed record MappedChatRequest(List<ChatMessage> Messages, ChatOptions Options, TurnInfo Turn);

/// <summary>
/// Validates an OpenAI chat request and maps it to <see cref="ChatMessage"/>s, reporting the first thing
/// wrong with it as a problem (the caller answers 400 before any model work).
/// </summary>
public static class ChatRequestMapper
{
    public static bool TryMap(
        ChatCompletionRequest request,
        string model,
        out MappedChatRequest mapped,
        out (GatewayProblem Problem, string Detail) error)
    {
        mapped = null!;
        error = default;
        if (request.Messages is not { Count: > 0 } dtos)
        {
            error = (GatewayProblem.MissingMessages, "'messages' must be a non-empty array.");
            return false;
        }

        var messages = new List<ChatMessage>(dtos.Count);
        var userMessages = 0;
        var lastUserOrdinal = 0;
        string? lastUserText = null;
        for (var i = 0; i < dtos.Count; i++)
        {
            if (dtos[i] is not { } dto)
            {
                error = (GatewayProblem.InvalidMessage, $"messages[{i}] is null.");
                return false;
            }

            if (!TryMapMessage(dto, i, out var message, out var detail))
            {
                error = (GatewayProblem.InvalidMessage, detail);
                return false;
            }

            if (message.Role == ChatRole.User)
            {
                userMessages++;
                lastUserOrdinal = userMessages;
                lastUserText = dto.Content ?? string.Empty;
            }

            messages.Add(message);
        }

        var options = new ChatOptions { ModelId = model, MaxOutputTokens = request.MaxCompletionTokens ?? request.MaxTokens };
        if (request.Temperature is { } temperature)
        {
            options.Temperature = temperature;
        }

        if (request.TopP is { } topP)
        {
            options.TopP = topP;
        }

        if (request.Tools is { Count: > 0 } tools)
        {
            options.Tools = new List<AITool>(tools.Count);
            for (var i = 0; i < tools.Count; i++)
            {
                if (tools[i] is not { Type: "function", Function.Name: { Length: > 0 } name } tool)
                {
                    error = (GatewayProblem.InvalidTool, $"tools[{i}] must be {{\"type\":\"function\",\"function\":{{\"name\":...}}}}.");
                    return false;
                }

                var schema = tool.Function!.Parameters is { ValueKind: JsonValueKind.Object } parameters
                    ? parameters
                    : EmptySchema;
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(name, tool.Function.Description, schema));
            }
        }

        var lastIsUser = messages[^1].Role == ChatRole.User;
        var fingerprint = lastUserText is null ? 0UL : TaskFingerprint.Compute(lastUserOrdinal, lastUserText);
        var turn = new TurnInfo(
            lastIsUser ? TurnKind.UserMessage : TurnKind.Continuation,
            fingerprint,
            TokenEstimator.EstimateInput(messages),
            Model: model);
        mapped = new MappedChatRequest(messages, options, turn);
        return true;
    }

    private static readonly JsonElement EmptySchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();

    private static bool TryMapMessage(ChatMessageDto dto, int index, out ChatMessage message, out string detail)
    {
        message = null!;
        detail = string.Empty;
        switch (dto.Role)
        {
            case "system" or "developer":
                message = new ChatMessage(ChatRole.System, dto.Content ?? string.Empty);
                return true;
            case "user":
                if (dto.Content is null)
                {
                    detail = $"messages[{index}] (user) has no content.";
                    return false;
                }

                message = new ChatMessage(ChatRole.User, dto.Content) { AuthorName = dto.Name };
                return true;
            case "assistant":
                var contents = new List<AIContent>();
                if (!string.IsNullOrEmpty(dto.Content))
                {
                    contents.Add(new TextContent(dto.Content));
                }

                if (dto.ToolCalls is { } calls)
                {
                    for (var c = 0; c < calls.Count; c++)
                    {
                        if (calls[c] is not { Id: { Length: > 0 } id, Function.Name: { Length: > 0 } name } call)
                        {
                            detail = $"messages[{index}].tool_calls[{c}] needs an 'id' and a 'function.name'.";
                            return false;
                        }

                        contents.Add(FunctionCallContent.CreateFromParsedArguments(
                            call.Function!.Arguments ?? "{}",
                            id,
                            name,
                            static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions)));
                    }
                }

                message = new ChatMessage(ChatRole.Assistant, contents) { AuthorName = dto.Name };
                return true;
            case "tool":
                if (string.IsNullOrEmpty(dto.ToolCallId))
                {
                    detail = $"messages[{index}] (tool) needs a 'tool_call_id'.";
                    return false;
                }

                message = new ChatMessage(ChatRole.Tool, [new FunctionResultContent(dto.ToolCallId, dto.Content ?? string.Empty)]);
                return true;
            case null:
                detail = $"messages[{index}] has no 'role'.";
                return false;
            default:
                detail = $"messages[{index}] has the unknown role '{dto.Role}' (expected system, developer, user, assistant or tool).";
                return false;
        }
    }
}
