using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Problems;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Conversations;

/// <summary><c>GET /v1/sessions/{id}/ws</c>: the WebSocket chat (docs/websocket.md).</summary>
public static class ChatSocketApi
{
    public static WebApplicationBuilder AddChatSockets(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ChatSocketOptions>(builder.Configuration, ChatSocketOptions.SectionName);
        builder.Services.AddSingleton<IValidateOptions<ChatSocketOptions>, ChatModelValidator>();
        builder.Services.AddSingleton<ChatConversations>();
        return builder;
    }

    public static WebApplication MapChatSockets(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet("/v1/sessions/{id}/ws", static async (HttpContext context, string id, ChatConversations conversations, IOptions<ChatSocketOptions> options) =>
        {
            if (!SessionIds.IsValid(id))
            {
                return GatewayProblem.InvalidSessionId.ToResult(
                    $"The session id must be 1 to {SessionIds.MaxLength} characters of letters, digits and . _ : -");
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                return GatewayProblem.WebSocketRequired.ToResult(
                    "This endpoint speaks WebSocket: send a GET with 'Connection: Upgrade' and 'Upgrade: websocket' (see docs/websocket.md).");
            }

            var settings = options.Value;
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = settings.KeepAliveInterval,
            }).ConfigureAwait(false);
            await conversations.RunAsync(id, socket).ConfigureAwait(false);
            return Results.Empty;
        });
        return app;
    }
}
