using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>Run-time faults on a simulated model through the admin API, on a node of its own.</summary>
public sealed class FaultInjectionTests : IAsyncDisposable
{
    private readonly OwnNode _node = new(new Dictionary<string, string> { ["Routing:MaxRetries"] = "0" });

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task Faults_SetOnHaiku_AnsweredBySonnetUntilCleared()
    {
        using (var set = await _node.Http.PutAsJsonAsync("/admin/models/haiku/faults", new { errorRate = 1.0, status = 503 }))
        {
            set.StatusCode.ShouldBe(HttpStatusCode.OK);
            var faults = (await set.Content.ReadFromJsonAsync<JsonObject>())!;
            ((double)faults["errorRate"]!).ShouldBe(1.0);
            ((int)faults["status"]!).ShouldBe(503);
        }

        var models = await _node.Http.GetFromJsonAsync<JsonArray>("/admin/models");
        ((int)models!.Single(m => (string?)m!["name"] == "haiku")!["faults"]!["status"]!).ShouldBe(503);
        models!.Single(m => (string?)m!["name"] == "sonnet")!["faults"].ShouldBeNull();

        using (var failed = await PostAsync("Hello"))
        {
            failed.StatusCode.ShouldBe(HttpStatusCode.OK);
            failed.Header("X-Gateway-Route").ShouldBe("fallback:sonnet");
        }

        using (var clear = await _node.Http.DeleteAsync("/admin/models/haiku/faults"))
        {
            clear.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using var healthy = await PostAsync("Hello");
        healthy.Header("X-Gateway-Route").ShouldBe("primary");
    }

    [Fact]
    public async Task Faults_OutOfRange_400InvalidFaultsListingEveryProblem()
    {
        using var response = await _node.Http.PutAsJsonAsync("/admin/models/haiku/faults", new { errorRate = 1.5, status = 200 });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-faults");
        var detail = (string)problem["detail"]!;
        detail.ShouldContain("errorRate must be from 0 to 1 (was 1.5).");
        detail.ShouldContain("status must be from 400 to 599 (was 200).");
    }

    [Fact]
    public async Task Faults_UnknownModel_404UnknownModel()
    {
        using var response = await _node.Http.PutAsJsonAsync("/admin/models/opus/faults", new { errorRate = 1.0 });

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "unknown-model");
    }

    [Fact]
    public async Task Faults_MalformedBody_400ProblemNot500()
    {
        using var response = await _node.Http.PutAsync("/admin/models/haiku/faults", new StringContent("{\"errorRate\":", System.Text.Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    private Task<HttpResponseMessage> PostAsync(string text) => _node.PostChatAsync(Chat.Request("haiku", text));
}
