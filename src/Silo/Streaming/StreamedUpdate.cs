using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Streaming;

/// <summary>What one streamed update from a model carries: text for the client, tool calls, and usage when reported.</summary>
public readonly record struct StreamedUpdate(string? Text, List<FunctionCallContent>? ToolCalls, long? InputTokens, long? OutputTokens)
{
    /// <summary>Whether the update has anything to pass on (and so to pay for).</summary>
    public bool HasContent => Text is not null || ToolCalls is not null;

    /// <summary>The gateway's token count for what the update passes on.</summary>
    public int Tokens => TokenMeter.TokensOf(Text, ToolCalls);

    public static StreamedUpdate Read(ChatResponseUpdate update)
    {
        string? text = null;
        List<FunctionCallContent>? calls = null;
        long? input = null, output = null;
        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case TextContent { Text.Length: > 0 } t:
                    text = text is null ? t.Text : text + t.Text;
                    break;
                case FunctionCallContent call:
                    (calls ??= []).Add(call);
                    break;
                case UsageContent usage:
                    input = usage.Details.InputTokenCount ?? input;
                    output = usage.Details.OutputTokenCount ?? output;
                    break;
            }
        }

        return new StreamedUpdate(text, calls, input, output);
    }
}
