using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

[Collection(GatewayCollection.Name)]
public sealed class HealthTests(GatewayFixture gateway)
{
    [Fact]
    public void Fixture_Started_ListensOnLoopbackWithFreePort()
    {
        gateway.BaseAddress.Host.ShouldBe("127.0.0.1");
        gateway.BaseAddress.Port.ShouldNotBe(0);
        gateway.BaseAddress.Port.ShouldNotBe(5080);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task HealthEndpoint_Get_Returns200Healthy(string path)
    {
        using var response = await gateway.Http.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("Healthy");
        response.Headers.Server.ShouldBeEmpty();
    }

    [Fact]
    public async Task Models_Get_ListsHaikuAndSonnet()
    {
        using var response = await gateway.Http.GetAsync("/v1/models");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var list = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        ((string?)list["object"]).ShouldBe("list");
        var models = list["data"]!.AsArray();
        models.Select(m => (string?)m!["id"]).ShouldBe(["haiku", "sonnet"]);
        models.ShouldAllBe(m => (string?)m!["object"] == "model" && (string?)m["owned_by"] == "agent-gateway");
    }

    [Fact]
    public async Task AdminModels_FromLoopback_ListsSimulatedModels()
    {
        var models = await gateway.Http.GetFromJsonAsync<JsonArray>("/admin/models");

        models!.Select(m => ((string?)m!["name"], (string?)m["provider"])).ShouldBe([("haiku", "simulated"), ("sonnet", "simulated")]);
    }
}
