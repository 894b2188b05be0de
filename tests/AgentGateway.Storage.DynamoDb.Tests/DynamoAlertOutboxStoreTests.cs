using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Sessions;
using AgentGateway.TestSupport;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AgentGateway.Storage.DynamoDb.Tests;

[Collection(DynaliteCollection.Name)]
public sealed class DynamoAlertOutboxStoreTests(DynaliteFixture dynalite) : IAsyncLifetime
{
    private static readonly DateTimeOffset At = FakeTimeProvider.DefaultStart;
    private readonly AlertComposer _composer = new("n:1");
    private DynamoDbOptions _options = null!;
    private AmazonDynamoDBClient _client = null!;
    private DynamoAlertOutboxStore _store = null!;

    public async Task InitializeAsync()
    {
        (_options, _client) = await dynalite.NewTablesAsync();
        _store = new DynamoAlertOutboxStore(_client, _options);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task PutMarkDelivered_PendingAndRecent_AsAnotherNodeReadsThem()
    {
        var first = Record("a", At);
        var second = Record("b", At.AddSeconds(1));
        await _store.PutAsync(first);
        await _store.PutAsync(second);
        second.Deliveries[0].Attempts = 2;
        second.Deliveries[0].LastError = "503";
        await _store.PutAsync(second);
        await _store.MarkDeliveredAsync(first.Alert.MessageId, "sns", At.AddSeconds(2));
        await _store.MarkDeliveredAsync(first.Alert.MessageId, "slack", At.AddSeconds(3));

        var other = new DynamoAlertOutboxStore(_client, _options);
        var pending = await other.ListPendingAsync();
        var recent = await other.ListRecentAsync(10);

        pending.Select(r => r.Alert.MessageId).ShouldBe([second.Alert.MessageId]);
        pending[0].Alert.ShouldBe(second.Alert);
        pending[0].Deliveries[0].Attempts.ShouldBe(2);
        pending[0].Deliveries[0].LastError.ShouldBe("503");
        pending[0].Deliveries[0].DeliveredAt.ShouldBeNull();
        recent.Select(r => r.Alert.MessageId).ShouldBe([second.Alert.MessageId, first.Alert.MessageId]);
        var delivered = recent[1].Delivery("sns")!;
        delivered.DeliveredAt.ShouldBe(At.AddSeconds(2));
        delivered.Attempts.ShouldBe(1);
        recent[1].Delivery("slack")!.DeliveredAt.ShouldBe(At.AddSeconds(3));
        recent[1].IsPending.ShouldBeFalse();
    }

    [Fact]
    public async Task MarkDeliveredAsync_LastSink_RemovesThePendingAttribute_ExpiresAtIsStoredPlusAlertTimeToLive()
    {
        var record = Record("a", At);
        await _store.PutAsync(record);
        (await ItemAsync(record)).ContainsKey("pending").ShouldBeTrue();

        await _store.MarkDeliveredAsync(record.Alert.MessageId, "sns", At);
        (await ItemAsync(record)).ContainsKey("pending").ShouldBeTrue();
        await _store.MarkDeliveredAsync(record.Alert.MessageId, "slack", At);
        var item = await ItemAsync(record);

        item.ContainsKey("pending").ShouldBeFalse();
        item["expires_at"].N.ShouldBe(At.AddDays(7).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task MarkDeliveredAsync_TwoSinksAtOnce_BothMarksKept()
    {
        for (var i = 0; i < 5; i++)
        {
            var record = Record("race" + i, At);
            await _store.PutAsync(record);

            await Task.WhenAll(
                Task.Run(() => _store.MarkDeliveredAsync(record.Alert.MessageId, "sns", At.AddSeconds(1))),
                Task.Run(() => _store.MarkDeliveredAsync(record.Alert.MessageId, "slack", At.AddSeconds(2))));

            var stored = (await _store.ListRecentAsync(100)).Single(r => r.Alert.MessageId == record.Alert.MessageId);
            stored.Delivery("sns")!.DeliveredAt.ShouldBe(At.AddSeconds(1));
            stored.Delivery("slack")!.DeliveredAt.ShouldBe(At.AddSeconds(2));
        }

        (await _store.ListPendingAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task MarkDeliveredAsync_UnknownAlertOrSink_KeyNotFound()
    {
        var record = Record("a", At);
        await _store.PutAsync(record);

        await Should.ThrowAsync<KeyNotFoundException>(() => _store.MarkDeliveredAsync("00ff", "sns", At));
        await Should.ThrowAsync<KeyNotFoundException>(() => _store.MarkDeliveredAsync(record.Alert.MessageId, "pager", At));
    }

    [Fact]
    public async Task ListRecentAsync_Limit_NewestFirstTiesByMessageId()
    {
        var records = new[] { Record("t1", At.AddSeconds(5)), Record("t2", At.AddSeconds(5)), Record("t3", At.AddSeconds(5)), Record("old", At), Record("new", At.AddSeconds(9)) };
        foreach (var record in records)
        {
            await _store.PutAsync(record);
        }

        var tied = records.Take(3).Select(r => r.Alert.MessageId).Order(StringComparer.Ordinal).ToArray();

        (await _store.ListRecentAsync(2)).Select(r => r.Alert.MessageId).ShouldBe([records[4].Alert.MessageId, tied[0]]);
        (await _store.ListRecentAsync(3)).Select(r => r.Alert.MessageId).ShouldBe([records[4].Alert.MessageId, tied[0], tied[1]]);
        (await _store.ListRecentAsync(10)).Select(r => r.Alert.MessageId).ShouldBe([records[4].Alert.MessageId, .. tied, records[3].Alert.MessageId]);
        (await _store.ListRecentAsync(0)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ListPendingAsync_OldestFirst()
    {
        var late = Record("late", At.AddMinutes(2));
        var early = Record("early", At);
        await _store.PutAsync(late);
        await _store.PutAsync(early);

        (await _store.ListPendingAsync()).Select(r => r.Alert.MessageId).ShouldBe([early.Alert.MessageId, late.Alert.MessageId]);
    }

    [Fact]
    public async Task TryAddAsync_SameMessageIdTwice_OnlyTheFirstStored()
    {
        var record = Record("a", At);
        var duplicate = new AlertRecord { Alert = record.Alert, StoredAt = At.AddSeconds(1), Node = "node-b", Deliveries = [] };

        (await _store.TryAddAsync(record)).ShouldBeTrue();
        (await _store.TryAddAsync(duplicate)).ShouldBeFalse();

        (await _store.ListPendingAsync()).Single().StoredAt.ShouldBe(At);
    }

    private async Task<Dictionary<string, AttributeValue>> ItemAsync(AlertRecord record) =>
        (await _client.GetItemAsync(_options.AlertsTable, new Dictionary<string, AttributeValue> { ["id"] = new() { S = record.Alert.MessageId } })).Item;

    private AlertRecord Record(string sessionId, DateTimeOffset at) => new()
    {
        Alert = _composer.SessionTripped(new SessionTripped(sessionId, TripReason.LoopLimit, 5, 10, at)),
        StoredAt = at,
        Deliveries = [new SinkDelivery { Sink = "sns", NextAttemptAt = at }, new SinkDelivery { Sink = "slack", NextAttemptAt = at }],
    };
}
