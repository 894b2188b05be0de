using AgentGateway.Contracts.Breakers;
using AgentGateway.TestSupport;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb.Tests;

[Collection(DynaliteCollection.Name)]
public sealed class DynamoBreakerStoreTests(DynaliteFixture dynalite) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private DynamoDbOptions _options = null!;
    private AmazonDynamoDBClient _client = null!;
    private DynamoBreakerStore _store = null!;

    public async Task InitializeAsync()
    {
        (_options, _client) = await dynalite.NewTablesAsync();
        _store = new DynamoBreakerStore(_client, _options, _time);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ReadAsync_EveryField_RoundTripsExactly()
    {
        var written = new BreakerState(
            Name: "claude-haiku",
            Version: 1,
            Status: BreakerStatus.HalfOpen,
            ChangedAt: new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)).AddTicks(77),
            NextHalfOpenAt: new DateTimeOffset(2026, 5, 6, 7, 9, 9, TimeSpan.Zero).AddTicks(3),
            BreakDuration: TimeSpan.FromSeconds(61.5).Add(TimeSpan.FromTicks(1)),
            ConsecutiveFailures: 7,
            OpenCount: 3,
            WindowBuckets: [100, 101, 103],
            WindowSuccesses: [5, 0, int.MaxValue],
            WindowFailures: [0, 9, 1],
            UpdatedAt: new DateTimeOffset(2026, 5, 6, 7, 8, 10, TimeSpan.FromMinutes(-150)),
            ProbeTickets: [41, 42],
            ProbeAcquiredAt: [638_000_000_000_000_001, 638_000_000_000_000_002],
            LastTicket: 42);

        await _store.TryWriteAsync(written, 0, CancellationToken.None);
        var read = (await _store.ReadAsync("claude-haiku", CancellationToken.None))!;

        read.Name.ShouldBe(written.Name);
        read.Version.ShouldBe(1);
        read.Status.ShouldBe(BreakerStatus.HalfOpen);
        read.ChangedAt.ShouldBe(written.ChangedAt);
        read.ChangedAt!.Value.Offset.ShouldBe(TimeSpan.FromHours(2));
        read.NextHalfOpenAt.ShouldBe(written.NextHalfOpenAt);
        read.BreakDuration.ShouldBe(written.BreakDuration);
        read.ConsecutiveFailures.ShouldBe(7);
        read.OpenCount.ShouldBe(3);
        read.WindowBuckets.ShouldBe(written.WindowBuckets);
        read.WindowSuccesses.ShouldBe(written.WindowSuccesses);
        read.WindowFailures.ShouldBe(written.WindowFailures);
        read.UpdatedAt.ShouldBe(written.UpdatedAt);
        read.UpdatedAt.Offset.ShouldBe(TimeSpan.FromMinutes(-150));
        read.ProbeTickets.ShouldBe(written.ProbeTickets);
        read.ProbeAcquiredAt.ShouldBe(written.ProbeAcquiredAt);
        read.LastTicket.ShouldBe(42);
    }

    [Fact]
    public async Task TryWriteAsync_ConflictsAsForSessions()
    {
        (await _store.TryWriteAsync(State("m", 1, BreakerStatus.Closed), 0, CancellationToken.None)).ShouldBeTrue();

        (await _store.TryWriteAsync(State("m", 1, BreakerStatus.Open), 0, CancellationToken.None)).ShouldBeFalse();
        (await _store.TryWriteAsync(State("m", 2, BreakerStatus.Open), 1, CancellationToken.None)).ShouldBeTrue();
        (await _store.TryWriteAsync(State("m", 2, BreakerStatus.Closed), 1, CancellationToken.None)).ShouldBeFalse();

        (await _store.ReadAsync("m", CancellationToken.None))!.Status.ShouldBe(BreakerStatus.Open);
    }

    [Fact]
    public async Task TryWriteAsync_Isolated_ItemNeverExpires_OtherwiseExpiresAfterTheSessionTimeToLive()
    {
        await _store.TryWriteAsync(State("m", 1, BreakerStatus.Open), 0, CancellationToken.None);
        var open = await ItemAsync("m");
        await _store.TryWriteAsync(State("m", 2, BreakerStatus.Isolated), 1, CancellationToken.None);
        var isolated = await ItemAsync("m");

        open["GrainTtl"].N.ShouldBe((_time.GetUtcNow() + _options.SessionTimeToLive).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        isolated.ContainsKey("GrainTtl").ShouldBeFalse();
    }

    private async Task<Dictionary<string, AttributeValue>> ItemAsync(string id) =>
        (await _client.GetItemAsync(_options.GrainsTable, new Dictionary<string, AttributeValue>
        {
            ["GrainReference"] = new() { S = "breaker/" + id },
            ["GrainType"] = new() { S = "breaker" },
        })).Item;

    private static BreakerState State(string name, long version, BreakerStatus status) =>
        new(name, version, status, null, null, TimeSpan.FromSeconds(30), 0, 0, [], [], [], FakeTimeProvider.DefaultStart);
}
