using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AgentGateway.Silo.Tests.Infrastructure;

public static class Problems
{
    public const string TypePrefix = "urn:agent-gateway:problem:";

    /// <summary>
    /// Asserts an <c>application/problem+json</c> answer with the given status and stable type, carrying the
    /// OpenAI-style <c>error</c> object too; returns the body.
    /// </summary>
    public static async Task<JsonObject> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        response.StatusCode.ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        ((string?)problem["type"]).ShouldBe(TypePrefix + code);
        ((int?)problem["status"]).ShouldBe((int)status);
        ((string?)problem["title"]).ShouldNotBeNullOrWhiteSpace();
        var error = problem["error"]!.AsObject();
        ((string?)error["code"]).ShouldBe(code);
        ((string?)error["type"]).ShouldBe((int)status >= 500 ? "server_error" : "invalid_request_error");
        return problem;
    }
}
