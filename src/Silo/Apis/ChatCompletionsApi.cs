using System.Text.Json.Serialization;
using AgentGateway.Providers.Models;

namespace AgentGateway.Silo.Apis;

/// <summary>The OpenAI-compatible surface: point any OpenAI client's base URL at <c>/v1</c>.</summary>
public static class ChatCompletionsApi
{
    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("OpenAI-compatible");
        v1.MapPost("/chat/completions", static (HttpContext context, ChatCompletionsHandler handler) => handler.HandleAsync(context));
        v1.MapGet("/models", static (ModelCatalog models) => TypedResults.Ok(new ModelList(
            "list",
            [.. models.Models.Select(m => new ModelListEntry(m.Name, "model", 0, "agent-gateway"))])));
        return app;
    }

    public sealed record ModelList(string Object, IReadOnlyList<ModelListEntry> Data);

    /// <summary>One entry of OpenAI's model list; <c>owned_by</c> is snake_case on the wire, as OpenAI clients read it.</summary>
    public sealed record ModelListEntry(string Id, string Object, long Created, [property: JsonPropertyName("owned_by")] string OwnedBy);
}
