using AgentGateway.Providers.Models;
using AgentGateway.TestSupport;
using Microsoft.Extensions.AI;

namespace AgentGateway.Providers.Tests.Models;

public sealed class SimulatedFaultsTests
{
    private readonly FakeTimeProvider _time = new();

    [Theory]
    [InlineData(0.0, new[] { false, false, false, false, false, false })]
    [InlineData(0.5, new[] { false, true, false, true, false, true })]
    [InlineData(1.0 / 3, new[] { false, false, true, false, false, true })]
    [InlineData(1.0, new[] { true, true, true, true, true, true })]
    public void Fails_ErrorRate_SpreadEvenlyAndDeterministically(double rate, bool[] expected)
        => Enumerable.Range(1, 6).Select(call => new SimulatedFaults(ErrorRate: rate).Fails(call)).ShouldBe(expected);

    [Fact]
    public void Problems_EveryValueOutOfRange_AllListed()
        => new SimulatedFaults(ErrorRate: 2, Status: 200, LatencyMilliseconds: -1).Problems().Count().ShouldBe(3);

    [Fact]
    public async Task GetResponseAsync_ErrorRateOne_EveryCallFailsWithTheStatus()
    {
        var client = new SimulatedChatClient("haiku", _time) { Faults = new SimulatedFaults(ErrorRate: 1, Status: 429) };

        var error = await Should.ThrowAsync<ModelCallException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        error.StatusCode.ShouldBe(429);
        client.Faults = null;
        (await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")])).Text.ShouldBe("This is a simulated answer from haiku.");
    }

    [Fact]
    public async Task GetResponseAsync_DirectiveInMessage_WinsOverTheFault()
    {
        var client = new SimulatedChatClient("haiku", _time) { Faults = new SimulatedFaults(ErrorRate: 1, Status: 503) };

        var error = await Should.ThrowAsync<ModelCallException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "[[sim:error=500]]")]));

        error.StatusCode.ShouldBe(500);
    }

    [Fact]
    public async Task GetResponseAsync_LatencyFault_AnswersWhenFakeTimeReachesIt()
    {
        var client = new SimulatedChatClient("haiku", _time) { Faults = new SimulatedFaults(LatencyMilliseconds: 100) };

        var pending = client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        pending.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromMilliseconds(1));

        (await pending).Text.ShouldBe("This is a simulated answer from haiku.");
    }

    [Fact]
    public async Task GetResponseAsync_Stall_WaitsUntilCancelledWhateverTheTime()
    {
        var client = new SimulatedChatClient("haiku", _time) { Faults = new SimulatedFaults(Stall: true) };
        using var cts = new CancellationTokenSource();

        var pending = client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: cts.Token);
        _time.Advance(TimeSpan.FromDays(1));
        pending.IsCompleted.ShouldBeFalse();
        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(pending);
        client.Cancellations.ShouldBe(1);
    }
}
