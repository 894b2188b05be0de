using System.Collections.Concurrent;
using AgentGateway.Actors.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Governance.Breakers;
using AgentGateway.Runtime;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Orleans;
using Microsoft.Extensions.DependencyInjection;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Storage.DynamoDb.Tests;

/// <summary>The DynamoDB requests a governed model call makes (what docs/storage.md's cost table says), counted on the client.</summary>
[Collection(DynaliteCollection.Name)]
public sealed class StoreCallsTests(DynaliteFixture dynalite) : IAsyncLifetime
{
    private static readonly ulong Task1 = TaskFingerprint.Compute(1, "count my calls");
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private DynamoDbOptions _options = null!;
    private AmazonDynamoDBClient _client = null!;

    public async Task InitializeAsync()
    {
        (_options, _client) = await dynalite.NewTablesAsync();
        _client.BeforeRequestEvent += (_, e) =>
        {
            if (e is WebServiceRequestEventArgs request)
            {
                _calls.Enqueue(request.Request.GetType().Name.Replace("Request", "", StringComparison.Ordinal));
            }
        };
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Session_FirstCallReadsOnce_EachAdmissionIsOneConditionalPut_TheSettlementRidesOnTheNext()
    {
        var calls = new GrainCallSignals();
        await using var cluster = await GrainTestCluster.StartAsync(
            services: s =>
            {
                s.AddSingleton<ISessionStore>(new DynamoSessionStore(_client, _options, _time));
                s.AddSingleton<Orleans.IIncomingGrainCallFilter>(calls);
            },
            time: _time);
        var session = cluster.Grains.GetGrain<ISessionGrain>("s1");

        var first = await session.AdmitAsync(new TurnInfo(TurnKind.UserMessage, Task1, 10));
        await session.SettleAsync(new CallSettlement(first.ReservedInputTokens, 10, 20));
        await calls.WhenCompleted("s1", nameof(ISessionGrain.SettleAsync));
        await session.AdmitAsync(new TurnInfo(TurnKind.Continuation, Task1, 10));

        _calls.ShouldBe(["GetItem", "PutItem", "PutItem"]);
        (await new DynamoSessionStore(_client, _options, _time).ReadAsync("s1", CancellationToken.None))!.WindowTokens.Sum().ShouldBe(40);
    }

    [Fact]
    public async Task Breaker_ClosedAcquireReadsOnlyOnActivation_ReportedOutcomesWriteNothing_AnOpenIsOnePut()
    {
        await using var breakers = new ModelBreakers(
            ["haiku"], new DynamoBreakerStore(_client, _options, _time), new BreakerOptions(), new ActorHostOptions(), _time, NullLoggerFactory.Instance);

        for (var i = 0; i < 3; i++)
        {
            var lease = await breakers.AcquireAsync("haiku", CancellationToken.None);
            breakers.Report(lease, 200, TimeSpan.FromMilliseconds(100));
        }

        await breakers.GetAsync("haiku", CancellationToken.None); // after the reports (one mailbox); an operator's read rereads

        // Closed-state outcomes only move this node's sampling window: no write per call.
        _calls.ShouldBe(["GetItem", "GetItem"]);

        // Five failures open the breaker: one conditional write, the change of state every node must see.
        _calls.Clear();
        for (var i = 0; i < BreakerOptions.DefaultConsecutiveFailureThreshold; i++)
        {
            breakers.Report(await breakers.AcquireAsync("haiku", CancellationToken.None), 500, TimeSpan.FromMilliseconds(100));
        }

        (await breakers.GetAsync("haiku", CancellationToken.None))!.State.ShouldBe("open");
        _calls.ShouldBe(["PutItem", "GetItem"]);
    }
}
