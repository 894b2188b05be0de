using AgentGateway.Contracts.Sessions;
using AgentGateway.TestSupport;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb.Tests;

[Collection(DynaliteCollection.Name)]
public sealed class DynamoSessionStoreTests(DynaliteFixture dynalite) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private DynamoDbOptions _options = null!;
    private AmazonDynamoDBClient _client = null!;
    private DynamoSessionStore _store = null!;

    public async Task InitializeAsync()
    {
        (_options, _client) = await dynalite.NewTablesAsync();
        _store = new DynamoSessionStore(_client, _options, _time);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TryWriteAsync_ExpectedZeroOnExistingItem_FalseAndStoredUnchanged()
    {
        (await _store.TryWriteAsync(State("s1", 1, loopCount: 1), 0, CancellationToken.None)).ShouldBeTrue();

        var again = await _store.TryWriteAsync(State("s1", 1, loopCount: 9), 0, CancellationToken.None);

        again.ShouldBeFalse();
        (await _store.ReadAsync("s1", CancellationToken.None))!.LoopCount.ShouldBe(1);
    }

    [Fact]
    public async Task TryWriteAsync_StaleVersion_FalseAndCurrentVersionWins()
    {
        await _store.TryWriteAsync(State("s1", 1, loopCount: 1), 0, CancellationToken.None);
        (await _store.TryWriteAsync(State("s1", 2, loopCount: 2), 1, CancellationToken.None)).ShouldBeTrue();

        var stale = await _store.TryWriteAsync(State("s1", 2, loopCount: 7), 1, CancellationToken.None);
        var current = await _store.TryWriteAsync(State("s1", 3, loopCount: 3), 2, CancellationToken.None);

        stale.ShouldBeFalse();
        current.ShouldBeTrue();
        var stored = await _store.ReadAsync("s1", CancellationToken.None);
        stored!.Version.ShouldBe(3);
        stored.LoopCount.ShouldBe(3);
    }

    [Fact]
    public async Task TryWriteAsync_ExpectedVersionOnMissingItem_False()
        => (await _store.TryWriteAsync(State("nobody", 5), 4, CancellationToken.None)).ShouldBeFalse();

    [Fact]
    public async Task TryWriteAsync_VersionNotExpectedPlusOne_Throws()
        => await Should.ThrowAsync<ArgumentException>(async () => await _store.TryWriteAsync(State("s1", 3), 0, CancellationToken.None));

    [Fact]
    public async Task ReadAsync_Missing_Null()
        => (await _store.ReadAsync("nobody", CancellationToken.None)).ShouldBeNull();

    [Fact]
    public async Task ReadAsync_EveryField_RoundTripsExactly()
    {
        var written = new SessionState(
            SessionId: "sess_round.trip:1-x",
            Version: 1,
            Status: SessionStatus.Tripped,
            TripReason: TripReason.TokenVelocity,
            TrippedAt: new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(-5)).AddTicks(1234567),
            LoopCount: 4,
            ModelCalls: 123_456_789_012,
            CurrentTask: ulong.MaxValue - 7,
            RecentTasks: [1, ulong.MaxValue, 42],
            WindowBuckets: [29_000_001, 29_000_002, -3],
            WindowTokens: [10_000, 0, long.MaxValue],
            UpdatedAt: new DateTimeOffset(2026, 3, 4, 5, 6, 8, TimeSpan.FromMinutes(330)).AddTicks(1),
            Owner: "tenant-ü",
            Audit:
            [
                new SessionAuditEntry(new DateTime(2026, 3, 4, 10, 0, 0, DateTimeKind.Utc).AddTicks(9), SessionAuditKind.UserMessage, SessionAuditDecision.Admitted, TripReason.None, 1, 30),
                new SessionAuditEntry(new DateTime(2026, 3, 4, 10, 0, 1, DateTimeKind.Utc), SessionAuditKind.Stream, SessionAuditDecision.Refused, TripReason.TokenVelocity, 4, 10_001),
                new SessionAuditEntry(new DateTime(2026, 3, 4, 10, 0, 2, DateTimeKind.Unspecified), SessionAuditKind.Operator, SessionAuditDecision.Resumed, TripReason.None, 0, 0, "checked by ops — ok ✓"),
                new SessionAuditEntry(new DateTime(2026, 3, 4, 10, 0, 3, DateTimeKind.Utc), SessionAuditKind.Operator, SessionAuditDecision.Ended, TripReason.LoopLimit, 5, 77, ""),
            ]);

        await _store.TryWriteAsync(written, 0, CancellationToken.None);
        var read = (await _store.ReadAsync(written.SessionId, CancellationToken.None))!;

        ShouldBeSame(read, written);
    }

    [Fact]
    public async Task ReadAsync_NoOwnerNoAuditEmptyArrays_RoundTripsAsNullAndEmpty()
    {
        var written = State("bare", 1);

        await _store.TryWriteAsync(written, 0, CancellationToken.None);
        var read = (await _store.ReadAsync("bare", CancellationToken.None))!;

        ShouldBeSame(read, written);
        read.Owner.ShouldBeNull();
        read.Audit.ShouldBeNull();
        read.TrippedAt.ShouldBeNull();
    }

    [Fact]
    public async Task TryWriteAsync_ActiveItem_OrleansGrainStorageLayoutWithStatusAndExpiresAtSessionTimeToLiveAfterTheWrite()
    {
        _time.Advance(TimeSpan.FromHours(1));
        await _store.TryWriteAsync(State("s1", 1), 0, CancellationToken.None);

        var item = await ItemAsync("s1");

        item["status"].S.ShouldBe("active");
        item["GrainReference"].S.ShouldBe("session/s1");
        item["GrainType"].S.ShouldBe("session");
        item["ETag"].N.ShouldBe("1");
        item["GrainTtl"].N.ShouldBe((_time.GetUtcNow() + TimeSpan.FromDays(30)).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        item["GrainState"].B.Length.ShouldBeLessThan(100);
    }

    [Theory]
    [InlineData(SessionStatus.Tripped, "tripped")]
    [InlineData(SessionStatus.Ended, "ended")]
    public async Task TryWriteAsync_TrippedOrEndedItem_NeverExpires(SessionStatus status, string wireName)
    {
        await _store.TryWriteAsync(State("s1", 1), 0, CancellationToken.None);
        await _store.TryWriteAsync(State("s1", 2, status), 1, CancellationToken.None);

        var item = await ItemAsync("s1");

        item["status"].S.ShouldBe(wireName);
        item.ContainsKey("GrainTtl").ShouldBeFalse();
    }

    private async Task<Dictionary<string, AttributeValue>> ItemAsync(string id) =>
        (await _client.GetItemAsync(_options.GrainsTable, new Dictionary<string, AttributeValue>
        {
            ["GrainReference"] = new() { S = "session/" + id },
            ["GrainType"] = new() { S = "session" },
        })).Item;

    [Fact]
    public async Task ListAsync_StatusFilterOverSeveralPages_OrderedByIdWithCursor()
    {
        // 12 sessions, ids written out of order: every third one tripped, one ended.
        var ids = Enumerable.Range(0, 12).Select(i => $"s{i:D2}").Reverse().ToList();
        foreach (var id in ids)
        {
            var n = int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture);
            var status = n == 7 ? SessionStatus.Ended : n % 3 == 0 ? SessionStatus.Tripped : SessionStatus.Active;
            (await _store.TryWriteAsync(State(id, 1, status), 0, CancellationToken.None)).ShouldBeTrue();
        }

        var tripped = await AllPagesAsync(SessionStatus.Tripped, 3);
        var active = await AllPagesAsync(SessionStatus.Active, 3);
        var all = await AllPagesAsync(null, 5);
        var ended = await _store.ListAsync(SessionStatus.Ended, 10, null, CancellationToken.None);

        tripped.ShouldBe([["s00", "s03", "s06"], ["s09"]]);
        active.ShouldBe([["s01", "s02", "s04"], ["s05", "s08", "s10"], ["s11"]]);
        all.ShouldBe([["s00", "s01", "s02", "s03", "s04"], ["s05", "s06", "s07", "s08", "s09"], ["s10", "s11"]]);
        ended.Items.Select(s => s.SessionId).ShouldBe(["s07"]);
        ended.Items[0].Status.ShouldBe(SessionStatus.Ended);
        ended.NextCursor.ShouldBeNull();
    }

    [Fact]
    public async Task ListAsync_ExactlyLimitLeft_NoNextCursor()
    {
        foreach (var id in new[] { "a", "b", "c" })
        {
            await _store.TryWriteAsync(State(id, 1), 0, CancellationToken.None);
        }

        var page = await _store.ListAsync(null, 3, null, CancellationToken.None);
        var afterMissing = await _store.ListAsync(SessionStatus.Active, 10, "aa", CancellationToken.None);

        page.Items.Select(s => s.SessionId).ShouldBe(["a", "b", "c"]);
        page.NextCursor.ShouldBeNull();
        afterMissing.Items.Select(s => s.SessionId).ShouldBe(["b", "c"]);
    }

    [Fact]
    public async Task ListAsync_StatusChangedByAWrite_ListedUnderTheNewStatusOnly()
    {
        await _store.TryWriteAsync(State("s1", 1), 0, CancellationToken.None);
        await _store.TryWriteAsync(State("s1", 2, SessionStatus.Tripped), 1, CancellationToken.None);

        (await _store.ListAsync(SessionStatus.Active, 10, null, CancellationToken.None)).Items.ShouldBeEmpty();
        var tripped = await _store.ListAsync(SessionStatus.Tripped, 10, null, CancellationToken.None);
        tripped.Items.Single().Version.ShouldBe(2);
    }

    private async Task<List<string[]>> AllPagesAsync(SessionStatus? status, int limit)
    {
        var pages = new List<string[]>();
        string? cursor = null;
        do
        {
            var page = await _store.ListAsync(status, limit, cursor, CancellationToken.None);
            pages.Add([.. page.Items.Select(s => s.SessionId)]);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return pages;
    }

    internal static SessionState State(string id, long version, SessionStatus status = SessionStatus.Active, int loopCount = 0) =>
        new(id, version, status, status == SessionStatus.Tripped ? TripReason.LoopLimit : TripReason.None, null, loopCount, loopCount, 0, [], [], [], FakeTimeProvider.DefaultStart);

    internal static void ShouldBeSame(SessionState read, SessionState written)
    {
        read.SessionId.ShouldBe(written.SessionId);
        read.Version.ShouldBe(written.Version);
        read.Status.ShouldBe(written.Status);
        read.TripReason.ShouldBe(written.TripReason);
        read.TrippedAt.ShouldBe(written.TrippedAt);
        read.TrippedAt?.Offset.ShouldBe(written.TrippedAt!.Value.Offset);
        read.LoopCount.ShouldBe(written.LoopCount);
        read.ModelCalls.ShouldBe(written.ModelCalls);
        read.CurrentTask.ShouldBe(written.CurrentTask);
        read.RecentTasks.ShouldBe(written.RecentTasks);
        read.WindowBuckets.ShouldBe(written.WindowBuckets);
        read.WindowTokens.ShouldBe(written.WindowTokens);
        read.UpdatedAt.ShouldBe(written.UpdatedAt);
        read.UpdatedAt.Offset.ShouldBe(written.UpdatedAt.Offset);
        read.Owner.ShouldBe(written.Owner);
        if (written.Audit is null)
        {
            read.Audit.ShouldBeNull();
        }
        else
        {
            read.Audit.ShouldNotBeNull();
            read.Audit.ShouldBe(written.Audit);
            read.Audit.Select(a => a.At.Kind).ShouldBe(written.Audit.Select(a => a.At.Kind));
        }
    }
}
