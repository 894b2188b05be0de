using AgentGateway.Contracts.Alerts;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace AgentGateway.Alerts.Sinks;

/// <summary>
/// A Slack-compatible incoming webhook: <c>POST {"text": ..., "blocks": [...]}</c>. <c>text</c> is what
/// notifications and clients without blocks show; the blocks add the alert's fields and its message id.
/// </summary>
public sealed class SlackWebhookSink(HttpClient http, Uri webhook) : IAlertSink
{
    public string Name => AlertSinkNames.Slack;

    public async Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        using var content = new StringContent(Payload(alert).ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var response = await http.PostAsync(webhook, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // The URL is a secret: the error names the status only.
            throw new AlertPublishException($"The Slack webhook answered {(int)response.StatusCode}.");
        }
    }

    public static JsonObject Payload(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var b = alert.Body;
        var facts = new List<string>();
        if (b.SessionId is not null)
        {
            facts.Add($"*session* `{b.SessionId}`");
        }

        if (b.Model is not null)
        {
            facts.Add($"*model* `{b.Model}`");
        }

        facts.Add($"*reason* {b.Reason}");
        if (b.LoopCount is { } loops)
        {
            facts.Add($"*loops* {loops}");
        }

        if (b.TokensInWindow is { } tokens)
        {
            facts.Add($"*tokens in window* {tokens}");
        }

        facts.Add($"*node* {b.Node}");
        facts.Add($"*time* {b.Time:O}");
        facts.Add($"*alert* {alert.MessageId}");
        return new JsonObject
        {
            ["text"] = alert.Text,
            ["blocks"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "section",
                    ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = alert.Text },
                },
                new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray(facts.Select(static f => (JsonNode)new JsonObject { ["type"] = "mrkdwn", ["text"] = f }).ToArray()),
                },
            },
        };
    }
}
