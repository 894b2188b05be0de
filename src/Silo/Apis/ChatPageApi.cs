namespace AgentGateway.Silo.Apis;

/// <summary>
/// The browser chat page: a static page and its script and style, embedded in the node's assembly so the page
/// is served wherever the binary runs, with no content folder to ship. It talks to the node only through the
/// public API (<c>GET /v1/models</c> and the session WebSocket <c>/v1/sessions/{id}/ws</c>).
/// </summary>
public static class ChatPageApi
{
    public static IEndpointRouteBuilder MapChatPage(this IEndpointRouteBuilder app)
    {
        EmbeddedPages.Map(
            app,
            "Chat page",
            ("/", "index.html", "text/html; charset=utf-8"),
            ("/chat.js", "chat.js", "text/javascript; charset=utf-8"),
            ("/chat.css", "chat.css", "text/css; charset=utf-8"));
        return app;
    }
}
