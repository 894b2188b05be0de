using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

[Collection(GatewayCollection.Name)]
public sealed class NodeAdminTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Node_Get_NamesThisProcess()
    {
        var node = await GetNodeAsync();

        ((string?)node["node"]).ShouldBe($"{Environment.MachineName}:{Environment.ProcessId}");
        ((double)node["uptimeSeconds"]!).ShouldBeGreaterThanOrEqualTo(0);
        ((bool)node["memory"]!["gcForced"]!).ShouldBeFalse();
        ((long)node["memory"]!["gcHeapBytes"]!).ShouldBeGreaterThan(0);
        node["memory"]!["generationSizeBytes"]!.AsArray().Count.ShouldBe(5);
        ((int)node["threads"]!["threadPoolThreads"]!).ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Node_Uptime_CountedOnTheNodesClock()
    {
        await using var node = new OwnNode(new Dictionary<string, string>());
        node.Time.Advance(TimeSpan.FromSeconds(90));

        var stats = await node.Http.GetFromJsonAsync<JsonObject>("/admin/node");

        ((double)stats!["uptimeSeconds"]!).ShouldBe(90);
    }

    [Fact]
    public async Task Node_NewSessionCallsModel_SessionActivationsUpByOne()
    {
        // The shared node's clock stands still, so no activation is collected as idle between the two reads.
        var before = (int)(await GetNodeAsync())["sessionActivations"]!;

        using var response = await gateway.PostChatAsync(GatewayFixture.NewSessionId(), Chat.Request("haiku", "Say hello."));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        ((int)(await GetNodeAsync())["sessionActivations"]!).ShouldBe(before + 1);
    }

    [Fact]
    public async Task Nodes_TheNodeAlone_ItsSiloHostsOneBreakerPerServedModel()
    {
        // The silo subscribed to every served model's breaker as it started, which activated each (never collected).
        var breakers = await gateway.Http.GetFromJsonAsync<JsonArray>("/admin/breakers");
        var nodes = await gateway.Http.GetFromJsonAsync<JsonObject>("/admin/nodes");

        var self = nodes!["nodes"]!.AsArray().ShouldHaveSingleItem()!;
        ((bool)self["self"]!).ShouldBeTrue();
        ((int)self["breakerActivations"]!).ShouldBe(breakers!.Count);
        breakers.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Node_TwoSocketsOnOneSession_CountedAsOneConversationTwoSocketsAndFilesReported()
    {
        var before = await GetNodeAsync();
        var sessionId = GatewayFixture.NewSessionId();
        await using var tabA = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await using var tabB = await ChatSocket.ConnectAsync(gateway.BaseAddress, sessionId);
        await tabA.ReceiveAsync();
        await tabB.ReceiveAsync();

        var during = await GetNodeAsync();

        ((int)during["sockets"]!).ShouldBe((int)before["sockets"]! + 2);
        ((int)during["conversations"]!).ShouldBe((int)before["conversations"]! + 1);
        // Descriptors are the process's (other test classes open and close sockets meanwhile): only their sense is checked.
        ((int)during["files"]!["open"]!).ShouldBeGreaterThanOrEqualTo(2);
        ((long)during["files"]!["limit"]!).ShouldBeGreaterThanOrEqualTo((int)during["files"]!["open"]!);
    }

    [Fact]
    public async Task Node_GcTrue_RunsFullCollectionsBeforeAnswering()
    {
        var before = (int)(await GetNodeAsync())["memory"]!["collections"]![2]!;

        var node = await GetNodeAsync("?gc=true");

        ((bool)node["memory"]!["gcForced"]!).ShouldBeTrue();
        ((int)node["memory"]!["collections"]![2]!).ShouldBeGreaterThanOrEqualTo(before + 2);
    }

    [Fact]
    public async Task Node_CallerWithoutLoopbackAddress_Returns403AdminForbidden()
    {
        // The in-memory test server's requests carry no remote address (see AdminAccessTests).
        await using var factory = new GatewayFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/admin/node?gc=true");

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "admin-forbidden");
    }

    private async Task<JsonObject> GetNodeAsync(string query = "")
    {
        using var response = await gateway.Http.GetAsync("/admin/node" + query);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
