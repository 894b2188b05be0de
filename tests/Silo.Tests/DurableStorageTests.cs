using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;
using AgentGateway.Storage.DynamoDb;
using AgentGateway.TestSupport.Servers;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// <c>Storage:Provider=DynamoDb</c>: nodes keep their state in DynamoDB tables (dynalite here), so a session governed
/// on one node is the same session on another; a provider the node does not know stops its start.
/// </summary>
public sealed class DurableStorageTests : IAsyncLifetime
{
    private DynaliteServer _dynalite = null!;

    public async Task InitializeAsync() => _dynalite = await DynaliteServer.StartAsync();

    public async Task DisposeAsync() => await _dynalite.DisposeAsync();

    [Fact]
    public async Task TwoNodesOnDynamoDb_FirstMakesTablesAndServes_SecondSeesTheSession()
    {
        var prefix = DynaliteServer.NewTablePrefix();
        var settings = new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Storage:Provider"] = "dynamodb",
            ["DynamoDb:ServiceUrl"] = _dynalite.ServiceUrl,
            ["DynamoDb:TablePrefix"] = prefix,
        };
        await using var first = new OwnNode(settings);
        await using var second = new OwnNode(settings);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Chat.Request("haiku", [Chat.User("Say hello.")]).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", "durable-1");
        using var response = await first.Http.SendAsync(request);
        var seen = await second.GetSessionAsync("durable-1");

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        ((string?)seen["status"]).ShouldBe("active");
        ((int)seen["loopCount"]!).ShouldBe(1);
        ((long)seen["modelCalls"]!).ShouldBe(1);
        var options = new DynamoDbOptions { ServiceUrl = _dynalite.ServiceUrl, TablePrefix = prefix };
        using var client = DynamoDbClientFactory.Create(options, NullLogger.Instance);
        var tables = (await client.ListTablesAsync(new ListTablesRequest())).TableNames.Where(t => t.StartsWith(prefix, StringComparison.Ordinal));
        tables.Order(StringComparer.Ordinal).ShouldBe([options.AlertsTable, options.GrainsTable]);
        using var listed = await second.Http.GetAsync("/admin/sessions?status=active");
        var ids = (await listed.Content.ReadFromJsonAsync<JsonObject>())!["sessions"]!.AsArray().Select(s => (string?)s!["sessionId"]);
        ids.ShouldBe(["durable-1"]);
    }

    [Fact]
    public async Task TwoNodesOnDynamoDb_RunawayToolLoopAlternatingNodes_StaleNodeAsksAgainItself_FiveModelCallsThenLoopLimit()
    {
        var settings = new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Storage:Provider"] = "DynamoDb",
            ["DynamoDb:ServiceUrl"] = _dynalite.ServiceUrl,
            ["DynamoDb:TablePrefix"] = DynaliteServer.NewTablePrefix(),
        };
        await using var first = new OwnNode(settings);
        await using var second = new OwnNode(settings);
        List<JsonNode> history = [Chat.User("[[sim:loop]] Find the cheapest flight to Lisbon.")];

        // The two nodes share the tables but not a cluster: each holds an activation of the session. The one whose state
        // is stale has its write refused (nothing counted), drops that activation and asks again within the same
        // request, decided on the stored state: the client never sees the contention.
        var turns = new List<(string? Route, string? Trip, string? LoopCount)>();
        for (var call = 0; call < 7; call++)
        {
            var node = call % 2 == 0 ? first : second;
            using var response = await node.Http.SendAsync(NewRequest());
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            turns.Add((response.Header("X-Gateway-Route"), response.Header("X-Gateway-Trip"), response.Header("X-Gateway-Loop-Count")));
            var message = (await response.ReadJsonAsync()).Message();
            if (message["tool_calls"] is JsonArray calls)
            {
                history.Add(message.DeepClone());
                history.AddRange(calls.Select(c => (JsonNode)Chat.Tool((string)c!["id"]!, "no flights found")));
            }
        }

        turns.Take(5).ShouldBe([("primary", null, "1"), ("primary", null, "2"), ("primary", null, "3"), ("primary", null, "4"), ("primary", null, "5")]);
        turns.Skip(5).ShouldAllBe(t => t.Route == "deterministic" && t.Trip == "loop_limit");
        var session = await second.GetSessionAsync("runaway-1");
        ((string?)session["status"]).ShouldBe("tripped");
        ((long)session["modelCalls"]!).ShouldBe(5);

        HttpRequestMessage NewRequest()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(Chat.Request("haiku", history, tools: true).ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Session-Id", "runaway-1");
            return request;
        }
    }

    [Fact]
    public async Task Start_UnknownStorageProvider_ExitsWithCode2AndTheError()
    {
        var (exitCode, stderr) = await SiloProcess.RunUntilExitAsync(new Dictionary<string, string> { ["Storage:Provider"] = "Cassandra" });

        exitCode.ShouldBe(2);
        stderr.ShouldBe(["The gateway did not start: 1 configuration error(s).", "  - Storage:Provider 'Cassandra' is unknown; known providers: InMemory, DynamoDb."]);
    }

    [Fact]
    public async Task Start_DynamoDbWithBadPrefixAndTtl_ExitsWithCode2ListingBoth()
    {
        var (exitCode, stderr) = await SiloProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["Storage:Provider"] = "DynamoDb",
            ["DynamoDb:ServiceUrl"] = _dynalite.ServiceUrl,
            ["DynamoDb:TablePrefix"] = "no spaces",
            ["DynamoDb:AlertTimeToLive"] = "00:00:00",
        });

        exitCode.ShouldBe(2);
        stderr.ShouldBe(
        [
            "The gateway did not start: 2 configuration error(s).",
            "  - DynamoDb:TablePrefix may hold only letters, digits, '_', '-' and '.', at most 249 of them (was 'no spaces').",
            "  - DynamoDb:AlertTimeToLive must be positive (was 00:00:00).",
        ]);
    }

    [Fact]
    public async Task Start_DynamoDbTablesMissingAndCreateTablesOff_FailsNamingTheTables()
    {
        var prefix = DynaliteServer.NewTablePrefix();

        var (exitCode, stderr) = await SiloProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["Storage:Provider"] = "DynamoDb",
            ["DynamoDb:ServiceUrl"] = _dynalite.ServiceUrl,
            ["DynamoDb:TablePrefix"] = prefix,
            ["DynamoDb:CreateTables"] = "false",
        });

        exitCode.ShouldNotBe(0);
        string.Join('\n', stderr).ShouldContain($"'{prefix}grains', '{prefix}alerts'");
    }
}
