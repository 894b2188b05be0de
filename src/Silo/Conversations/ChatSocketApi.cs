using AgentGateway.Contracts.Sessions;
using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Auth;
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
        builder.Services.AddSingleton<ChatSocketDirectory>();
        return builder;
    }

    public static WebApplication MapChatSockets(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet("/v1/sessions/{id}/ws", static async (HttpContext context, string id, ChatConversations conversations, IGrainFactory grains, IOptions<ChatSocketOptions> options) =>
        {
            // Set by GatewayAuthMiddleware (the key may come as a subprotocol: browsers cannot set headers); fail closed.
            if (context.GetCaller() is not { Tenant: { } tenant })
            {
                return GatewayProblem.ApiForbidden.ToResult("The caller has no tenant.");
            }

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

            // The session's owner is settled before the upgrade, so a socket never joins another tenant's conversation
            // (two tenants racing for a new id: exactly one claim is written).
            switch (await grains.GetGrain<ISessionGrain>(id).ClaimAsync(tenant).ConfigureAwait(false))
            {
                case SessionClaim.Forbidden:
                    return ChatCompletionsHandler.SessionForbidden(id);
                case SessionClaim.Busy:
                    context.Response.Headers.RetryAfter = "1";
                    return GatewayProblem.SessionBusy.ToResult($"Session '{id}' was written elsewhere at the same moment; retry shortly.");
            }

            var settings = options.Value;
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = settings.KeepAliveInterval,

                // A browser that sent its key as a subprotocol offered this one beside it; the key is never echoed.
                SubProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(Credentials.WebSocketProtocol)
                    ? Credentials.WebSocketProtocol
                    : null,
            }).ConfigureAwait(false);
            await conversations.RunAsync(id, tenant, socket).ConfigureAwait(false);
            return Results.Empty;
        });
        return app;
    }
}
