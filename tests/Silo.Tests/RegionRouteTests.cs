using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>The fallback chain's "same model in an alternate region", after the alternate models.</summary>
public sealed class RegionRouteTests : IAsyncDisposable
{
    private readonly OwnNode _node = new(new Dictionary<string, string>(GatewayFixture.SharedSettings)
    {
        ["Models:haiku:Regions:0"] = "us-east-1",
        ["Models:haiku:Regions:1"] = "us-west-2",
        ["Models:sonnet:Provider"] = "simulated",
    });

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task ChatCompletions_ModelAndItsFallbackDown_AnsweredByTheModelInItsOtherRegion()
    {
        using var response = await _node.PostChatAsync(Chat.Request("haiku", "Hello [[sim:error=500@haiku]] [[sim:error=500@sonnet]]"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Header("X-Gateway-Route").ShouldBe("region:us-west-2");
        var completion = await response.ReadJsonAsync();
        ((string?)completion["model"]).ShouldBe("haiku");
        ((string?)completion.Message()["content"]).ShouldBe("This is a simulated answer from haiku@us-west-2.");
    }

    [Fact]
    public async Task Admin_RegionReplica_HasItsOwnBreakerAndFaultsButIsNotAClientModel()
    {
        var breakers = await _node.Http.GetFromJsonAsync<JsonArray>("/admin/breakers");
        breakers!.Select(b => (string?)b!["model"]).ShouldBe(["haiku", "haiku@us-west-2", "sonnet"]);

        using (var faults = await _node.Http.PutAsJsonAsync("/admin/models/haiku@us-west-2/faults", new { errorRate = 1.0, status = 503 }))
        {
            faults.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var allDown = await _node.PostChatAsync(Chat.Request("haiku", "Hi [[sim:error=500@haiku]] [[sim:error=500@sonnet]]")))
        {
            allDown.Header("X-Gateway-Route").ShouldBe("deterministic");
        }

        using var direct = await _node.PostChatAsync(Chat.Request("haiku@us-west-2", "Hi"));
        await direct.ShouldBeProblemAsync(HttpStatusCode.NotFound, "unknown-model");
    }
}
