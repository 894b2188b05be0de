using System.Collections.Frozen;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// The browser chat page: a static page and its script and style, embedded in the node's assembly so the page
/// is served wherever the binary runs, with no content folder to ship. It talks to the node only through the
/// public API (<c>GET /v1/models</c> and the session WebSocket <c>/v1/sessions/{id}/ws</c>).
/// </summary>
public static class ChatPageApi
{
    private const string ResourcePrefix = "wwwroot/";

    /// <summary>Each served path, the embedded file it answers with, and its content type.</summary>
    private static readonly (string Path, string File, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/chat.js", "chat.js", "text/javascript; charset=utf-8"),
        ("/chat.css", "chat.css", "text/css; charset=utf-8"),
    ];

    /// <summary>
    /// The page may load only its own script and style and connect only to its own node; it is never framed.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapChatPage(this IEndpointRouteBuilder app)
    {
        var assets = LoadAssets();
        var page = app.MapGroup("").WithTags("Chat page");
        foreach (var (path, file, contentType) in Files)
        {
            var content = assets[file];
            page.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => Serve(http, content, contentType))
                .ExcludeFromDescription();
        }

        return app;
    }

    /// <summary>
    /// The bytes as they are, revalidated on every load (<c>no-cache</c>) so a page reloaded after an upgrade never
    /// pairs an old script with a new node.
    /// </summary>
    private static IResult Serve(HttpContext http, byte[] content, string contentType)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return TypedResults.Bytes(content, contentType);
    }

    /// <summary>Reads every page file once, at mapping; a file missing from the build fails the start, not a request.</summary>
    private static FrozenDictionary<string, byte[]> LoadAssets()
    {
        var assembly = typeof(ChatPageApi).Assembly;
        var assets = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (_, file, _) in Files)
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + file)
                ?? throw new InvalidOperationException($"The chat page file '{file}' is not embedded in {assembly.GetName().Name}.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[file] = copy.ToArray();
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
