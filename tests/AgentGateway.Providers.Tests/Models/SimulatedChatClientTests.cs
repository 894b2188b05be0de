using AgentGateway.Providers.Models;
using AgentGateway.TestSupport;
using Microsoft.Extensions.AI;

namespace AgentGateway.Providers.Tests.Models;

public sealed class SimulatedChatClientTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task GetResponseAsync_NoDirective_ShortDeterministicAnswerWithUsage()
    {
        var client = new SimulatedChatClient("haiku", _time);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hello there!")]);

        response.Text.ShouldBe("This is a simulated answer from haiku.");
        response.FinishReason.ShouldBe(ChatFinishReason.Stop);
        response.Usage!.InputTokenCount.ShouldBe(3);
        response.Usage.OutputTokenCount.ShouldBe(7);
        response.Usage.TotalTokenCount.ShouldBe(10);
        client.Calls.ShouldBe(1);
    }

    [Fact]
    public async Task GetResponseAsync_TokensDirective_ThatManyOutputTokens()
    {
        var client = new SimulatedChatClient("haiku", _time);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "[[sim:tokens=4000]]")]);

        response.Usage!.OutputTokenCount.ShouldBe(4000);
        response.Text.Split(' ').Length.ShouldBe(4000);
    }

    [Fact]
    public async Task GetResponseAsync_LoopDirective_ToolCallToTheFirstOfferedTool()
    {
        var client = new SimulatedChatClient("haiku", _time);
        var options = new ChatOptions { Tools = [AIFunctionFactory.CreateDeclaration("search_docs", null, AIJsonUtilities.CreateJsonSchema(typeof(object)))] };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "stuck [[sim:loop]]")], options);

        response.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
        var call = response.Messages.Single().Contents.OfType<FunctionCallContent>().Single();
        call.Name.ShouldBe("search_docs");
        call.CallId.ShouldBe("call_haiku_1");
        response.Usage!.OutputTokenCount.ShouldBe(SimulatedChatClient.ToolCallTokens);
    }

    [Fact]
    public async Task GetResponseAsync_LoopDirectiveWithToolResultsAfter_StillLoops()
    {
        var client = new SimulatedChatClient("haiku", _time);
        ChatMessage[] history =
        [
            new(ChatRole.User, "[[sim:loop]]"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "lookup")]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "nothing found")]),
        ];

        var response = await client.GetResponseAsync(history);

        response.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(429)]
    [InlineData(503)]
    public async Task GetResponseAsync_ErrorDirective_FailsWithThatStatus(int status)
    {
        var client = new SimulatedChatClient("haiku", _time);

        var error = await Should.ThrowAsync<ModelCallException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, $"[[sim:error={status}]]")]));

        error.StatusCode.ShouldBe(status);
        error.Model.ShouldBe("haiku");
        error.IsTransient.ShouldBeTrue();
        client.Failures.ShouldBe(1);
        client.Calls.ShouldBe(1);
    }

    [Fact]
    public async Task GetResponseAsync_ErrorDirectiveForAnotherModel_Answers()
    {
        var client = new SimulatedChatClient("haiku", _time);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "[[sim:error=500@sonnet]]")]);

        response.Text.ShouldBe("This is a simulated answer from haiku.");
    }

    [Fact]
    public async Task GetResponseAsync_LatencyDirective_AnswersOnlyWhenFakeTimeReachesIt()
    {
        var client = new SimulatedChatClient("haiku", _time);

        var pending = client.GetResponseAsync([new ChatMessage(ChatRole.User, "[[sim:latency=250]]")]);
        _time.Advance(TimeSpan.FromMilliseconds(249));
        pending.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromMilliseconds(1));

        (await pending).Text.ShouldBe("This is a simulated answer from haiku.");
    }

    [Fact]
    public async Task GetResponseAsync_CancelledDuringLatency_CountsTheCancellation()
    {
        var client = new SimulatedChatClient("haiku", _time);
        using var cts = new CancellationTokenSource();

        var pending = client.GetResponseAsync([new ChatMessage(ChatRole.User, "[[sim:latency=1000]]")], cancellationToken: cts.Token);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(pending);
        client.Cancellations.ShouldBe(1);
        client.Calls.ShouldBe(1);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_TokensDirective_OneUpdatePerTokenThenUsage()
    {
        var client = new SimulatedChatClient("haiku", _time);

        var updates = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "[[sim:tokens=50]]")]).ToListAsync();

        updates.Count(u => u.Contents.OfType<TextContent>().Any()).ShouldBe(50);
        updates[^1].FinishReason.ShouldBe(ChatFinishReason.Stop);
        updates[^1].Contents.OfType<UsageContent>().Single().Details.OutputTokenCount.ShouldBe(50);
        string.Concat(updates.Select(u => u.Text)).Split(' ').Length.ShouldBe(50);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CancelledMidStream_CountsTheCancellation()
    {
        var client = new SimulatedChatClient("haiku", _time);
        using var cts = new CancellationTokenSource();
        var received = 0;

        await Should.ThrowAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "[[sim:tokens=1000]]")], cancellationToken: cts.Token))
            {
                if (++received == 10)
                {
                    await cts.CancelAsync();
                }
            }
        });

        received.ShouldBe(10);
        client.Cancellations.ShouldBe(1);
    }

    [Fact]
    public void ModelCatalogOptions_BadEntries_ReportsEveryError()
    {
        var options = new ModelCatalogOptions();
        options.Models["ok"] = new ModelDefinition();
        options.Models["bad name!"] = new ModelDefinition();
        options.Models["x"] = new ModelDefinition { Provider = "nope" };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToArray();

        errors.Length.ShouldBe(2);
        errors.ShouldContain(e => e!.Contains("bad name!", StringComparison.Ordinal));
        errors.ShouldContain(e => e!.Contains("'nope'", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelCatalogOptions_BadRegions_ReportsEveryError()
    {
        var options = new ModelCatalogOptions();
        options.Models["haiku"] = new ModelDefinition { Regions = ["us-east-1", "US_WEST", "us-east-1"] };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToArray();

        errors.ShouldBe(
        [
            "Models:haiku:Regions: 'US_WEST' is not a region name (lowercase letters, digits and -, at most 32).",
            "Models:haiku:Regions names a region twice.",
        ]);
    }

    [Fact]
    public void ModelCatalog_Regions_ExtraRegionsBecomeReplicasNotClientModels()
    {
        var options = new ModelCatalogOptions();
        options.Models["haiku"] = new ModelDefinition { Regions = ["us-east-1", "us-west-2", "eu-west-1"] };

        var catalog = ModelCatalog.Create(options, _time);

        catalog.Models.Select(m => m.Name).ShouldBe(["haiku"]);
        catalog.AllEntries.Select(m => (m.Name, m.Region, m.LogicalName)).ShouldBe(
            [("haiku", null, "haiku"), ("haiku@us-west-2", "us-west-2", "haiku"), ("haiku@eu-west-1", "eu-west-1", "haiku")]);
        catalog.TryGet("haiku@us-west-2", out _).ShouldBeFalse();
        catalog.TryGetAny("haiku@us-west-2", out var replica).ShouldBeTrue();
        replica.Client.ShouldBeOfType<SimulatedChatClient>().Model.ShouldBe("haiku@us-west-2");
    }

    [Fact]
    public void ModelCatalog_Create_MapsNamesToSimulatedClients()
    {
        var options = new ModelCatalogOptions();
        options.Models["haiku"] = new ModelDefinition();
        options.Models["sonnet"] = new ModelDefinition { Provider = "Simulated" };

        var catalog = ModelCatalog.Create(options, _time);

        catalog.TryGet("HAIKU", out var haiku).ShouldBeTrue();
        haiku.Client.ShouldBeOfType<SimulatedChatClient>().Model.ShouldBe("haiku");
        catalog.TryGet("opus", out _).ShouldBeFalse();
        catalog.Models.Select(m => m.Name).ShouldBe(["haiku", "sonnet"]);
    }
}
