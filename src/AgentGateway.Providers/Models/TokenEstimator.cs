using Microsoft.Extensions.AI;

namespace AgentGateway.Providers.Models;

/// <summary>
/// The gateway's rough token count for text it has not sent yet: one token per four characters, rounded
/// up. Used to reserve input tokens before a call; the provider's reported usage settles the difference.
/// </summary>
public static class TokenEstimator
{
    public static int FromCharacters(long characters) => characters <= 0 ? 0 : (int)Math.Min(int.MaxValue, (characters + 3) / 4);

    /// <summary>Estimated input tokens of a conversation: its text, tool calls' names and arguments, and tool results.</summary>
    public static int EstimateInput(IEnumerable<ChatMessage> messages)
    {
        long characters = 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                characters += content switch
                {
                    TextContent text => text.Text?.Length ?? 0,
                    FunctionCallContent call => call.Name.Length + ArgumentsLength(call.Arguments),
                    FunctionResultContent result => result.Result?.ToString()?.Length ?? 0,
                    _ => 0,
                };
            }
        }

        return FromCharacters(characters);
    }

    private static long ArgumentsLength(IDictionary<string, object?>? arguments)
    {
        if (arguments is null)
        {
            return 0;
        }

        long length = 0;
        foreach (var (key, value) in arguments)
        {
            length += key.Length + (value?.ToString()?.Length ?? 0);
        }

        return length;
    }
}
