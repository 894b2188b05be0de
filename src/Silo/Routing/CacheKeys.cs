using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Routing;

/// <summary>
/// The cache key of a request: <c>answer:</c> and a SHA-256 of the requested model, the conversation (system prompt
/// and messages: roles, texts, tool calls and results) and the names of the tools offered, so only the same question
/// in the same context finds an answer.
/// </summary>
public static class CacheKeys
{
    public static string For(string model, IEnumerable<ChatMessage> messages, IEnumerable<AITool>? tools = null)
    {
        var text = new StringBuilder(model.Length + 256).Append(model.ToLowerInvariant()).Append('\u001e');
        foreach (var message in messages)
        {
            text.Append(message.Role.Value).Append('\u001f');
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        text.Append(t.Text);
                        break;
                    case FunctionCallContent call:
                        text.Append("call:").Append(call.CallId).Append(':').Append(call.Name);
                        break;
                    case FunctionResultContent result:
                        text.Append("result:").Append(result.CallId).Append(':').Append(result.Result);
                        break;
                }

                text.Append('\u001f');
            }

            text.Append('\u001e');
        }

        // Offering tools can change the answer (a call instead of text): the same messages with other tools are another question.
        foreach (var tool in tools ?? [])
        {
            text.Append("tool:").Append(tool.Name).Append('\u001d');
        }

        return "answer:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
