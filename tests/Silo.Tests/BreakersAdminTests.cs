using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The breaker admin endpoints on the shared node. Every test that changes a breaker resets it afterwards, so the
/// node's other tests keep finding every breaker closed.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class BreakersAdminTests(GatewayFixture gateway)
{
    [Fact]
    public async Task GetBreakers_EveryServedModel_ClosedInNameOrder()
    {
        var all = await gateway.Http.GetFromJsonAsync<JsonArray>("/admin/breakers");

        all!.Select(b => ((string?)b!["model"], (string?)b["state"])).ShouldBe([("haiku", "closed"), ("sonnet", "closed")]);
    }

    [Fact]
    public async Task GetBreaker_AfterReset_ShowsEveryField()
    {
        // Other tests on this node call sonnet and fill its window: a reset makes the counts known.
        var reset = await PostAsync("sonnet", "reset");
        var breaker = await GetAsync("sonnet");

        ((string?)breaker["model"]).ShouldBe("sonnet");
        ((long)breaker["version"]!).ShouldBe((long)reset["version"]!);
        ((long)breaker["openCount"]!).ShouldBe(0);

        ((string?)breaker["state"]).ShouldBe("closed");
        ((double)breaker["failureRatio"]!).ShouldBe(0);
        ((int)breaker["callsInWindow"]!).ShouldBe(0);
        ((int)breaker["failuresInWindow"]!).ShouldBe(0);
        ((int)breaker["consecutiveFailures"]!).ShouldBe(0);
        breaker["nextHalfOpenAt"].ShouldBeNull();
        ((double)breaker["breakSeconds"]!).ShouldBe(30);
        ((int)breaker["probesInFlight"]!).ShouldBe(0);
    }

    [Fact]
    public async Task IsolateCloseReset_Haiku_StatesAndOpenCount()
    {
        try
        {
            var isolated = await PostAsync("haiku", "isolate");
            ((string?)isolated["state"]).ShouldBe("isolated");
            ((string?)(await GetAsync("haiku"))["state"]).ShouldBe("isolated");
            ((string?)(await GetAsync("sonnet"))["state"]).ShouldBe("closed");

            var closed = await PostAsync("haiku", "close");
            ((string?)closed["state"]).ShouldBe("closed");
            ((long)closed["version"]!).ShouldBe((long)isolated["version"]! + 1);
            ((string?)(await GetAsync("haiku"))["state"]).ShouldBe("closed");

            var reset = await PostAsync("haiku", "reset");
            ((string?)reset["state"]).ShouldBe("closed");
            ((long)reset["openCount"]!).ShouldBe(0);
            ((long)reset["version"]!).ShouldBe((long)closed["version"]! + 1);
        }
        finally
        {
            await gateway.Http.PostAsync("/admin/breakers/haiku/reset", null);
        }
    }

    [Fact]
    public async Task GetBreaker_ModelNameInAnotherCase_TheServedModel()
        => ((string?)(await GetAsync("HAIKU"))["model"]).ShouldBe("haiku");

    [Theory]
    [InlineData("GET", "/admin/breakers/gpt-9")]
    [InlineData("POST", "/admin/breakers/gpt-9/isolate")]
    [InlineData("POST", "/admin/breakers/gpt-9/close")]
    [InlineData("POST", "/admin/breakers/gpt-9/reset")]
    public async Task Breaker_UnknownModel_Returns404UnknownModel(string method, string path)
    {
        using var response = await gateway.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "unknown-model");
        ((string?)problem["detail"]).ShouldBe("Model 'gpt-9' is not served by this gateway, so it has no breaker.");
    }

    private async Task<JsonObject> GetAsync(string model)
    {
        using var response = await gateway.Http.GetAsync($"/admin/breakers/{model}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<JsonObject> PostAsync(string model, string action)
    {
        using var response = await gateway.Http.PostAsync($"/admin/breakers/{model}/{action}", null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}

/// <summary>The breaker endpoints sit in the loopback-only admin group (the in-memory test server has no remote address).</summary>
public sealed class BreakersAdminAccessTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("GET", "/admin/breakers")]
    [InlineData("GET", "/admin/breakers/haiku")]
    [InlineData("POST", "/admin/breakers/haiku/isolate")]
    [InlineData("POST", "/admin/breakers/haiku/close")]
    [InlineData("POST", "/admin/breakers/haiku/reset")]
    public async Task Breakers_CallerWithoutLoopbackAddress_Returns403AdminForbidden(string method, string path)
    {
        using var client = _factory.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "admin-forbidden");
    }
}
