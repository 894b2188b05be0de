using System.Collections.Concurrent;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains.Breakers;
using AgentGateway.Grains.Hosting;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Orleans;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;

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
    public async Task Breaker_ActivationReadsOnce_ClosedStateOutcomesWriteNothing_AnOpenIsOnePut()
    {
        await using var cluster = await GrainTestCluster.StartAsync(
            services: s =>
            {
                s.AddSingleton<IBreakerStore>(new DynamoBreakerStore(_client, _options, _time));
                s.AddModelBreakers(static _ => ["haiku"]);
            },
            time: _time);
        var breakers = cluster.FirstSilo.GetRequiredService<ModelBreakers>();

        // The silo subscribed as it started, which activated the breaker: its one read.
        _calls.ShouldBe(["GetItem"]);
        for (var i = 0; i < 3; i++)
        {
            var lease = await breakers.AcquireAsync("haiku", CancellationToken.None);
            await breakers.ReportAsync(lease, 200, TimeSpan.FromMilliseconds(100));
        }

        var closed = await breakers.GetAsync("haiku", CancellationToken.None); // sends the held outcomes first

        // Closed-state outcomes only move the grain's sampling window: no write per call, no read either.
        closed!.CallsInWindow.ShouldBe(3);
        _calls.ShouldBe(["GetItem"]);

        // Five failures open the breaker: one conditional write, the change of state a restart must find.
        _calls.Clear();
        for (var i = 0; i < BreakerOptions.DefaultConsecutiveFailureThreshold; i++)
        {
            await breakers.ReportAsync(await breakers.AcquireAsync("haiku", CancellationToken.None), 500, TimeSpan.FromMilliseconds(100));
        }

        (await breakers.GetAsync("haiku", CancellationToken.None))!.State.ShouldBe("open");
        _calls.ShouldBe(["PutItem"]);
    }
}
