namespace AgentGateway.Silo.Apis;

/// <summary>
/// Browser pages embedded in the node's assembly (<c>wwwroot/</c>), so they are served wherever the binary runs with
/// no content folder to ship. Each file is read once at mapping (a file missing from the build fails the start, not
/// a request) and served revalidated (<c>no-cache</c>: a page reloaded after an upgrade never pairs an old script
/// with a new node), not sniffed, and under a policy that lets it load only its own script and style, connect only
/// to its own node, and never be framed.
/// </summary>
internal static class EmbeddedPages
{
    private const string ResourcePrefix = "wwwroot/";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Maps each (path, embedded file, content type) for GET and HEAD.</summary>
    public static void Map(IEndpointRouteBuilder app, string tag, params (string Path, string File, string ContentType)[] files)
    {
        var assembly = typeof(EmbeddedPages).Assembly;
        var group = app.MapGroup("").WithTags(tag);
        foreach (var (path, file, contentType) in files)
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + file)
                ?? throw new InvalidOperationException($"The page file '{file}' is not embedded in {assembly.GetName().Name}.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            group.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => Serve(http, content, contentType))
                .ExcludeFromDescription();
        }
    }

    private static IResult Serve(HttpContext http, byte[] content, string contentType)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return TypedResults.Bytes(content, contentType);
    }
}
