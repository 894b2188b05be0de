using AgentGateway.Contracts.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Sessions;
using AgentGateway.TestSupport;

namespace AgentGateway.Alerts.Tests;

public sealed class FileAlertOutboxStoreTests : IDisposable
{
    private static readonly DateTimeOffset At = FakeTimeProvider.DefaultStart;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "alerts-store-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task PutAndMarkDelivered_StoreReopenedOnSameDirectory_SeesPendingDeliveredAndRecent()
    {
        var composer = new AlertComposer("n:1");
        var first = Record(composer.SessionTripped(new SessionTripped("a", TripReason.LoopLimit, 5, 10, At)), At);
        var second = Record(composer.SessionTripped(new SessionTripped("b", TripReason.TokenVelocity, 1, 10_000, At.AddSeconds(1))), At.AddSeconds(1));
        var store = new FileAlertOutboxStore(_directory);
        await store.PutAsync(first);
        await store.PutAsync(second);
        second.Deliveries[0].Attempts = 2;
        second.Deliveries[0].LastError = "503";
        await store.PutAsync(second);
        await store.MarkDeliveredAsync(first.Alert.MessageId, "sns", At.AddSeconds(2));
        await store.MarkDeliveredAsync(first.Alert.MessageId, "slack", At.AddSeconds(2));

        var reopened = new FileAlertOutboxStore(_directory);
        var pending = await reopened.ListPendingAsync();
        var recent = await reopened.ListRecentAsync(10);

        pending.Select(r => r.Alert.MessageId).ShouldBe([second.Alert.MessageId]);
        pending[0].Alert.ShouldBe(second.Alert);
        pending[0].Deliveries[0].Attempts.ShouldBe(2);
        pending[0].Deliveries[0].LastError.ShouldBe("503");
        recent.Select(r => r.Alert.MessageId).ShouldBe([second.Alert.MessageId, first.Alert.MessageId]);
        var delivered = recent[1].Delivery("sns")!;
        delivered.DeliveredAt.ShouldBe(At.AddSeconds(2));
        delivered.Attempts.ShouldBe(1);
        Directory.GetFiles(_directory).Select(Path.GetFileName).Order().ShouldBe(
            new[] { first.Alert.MessageId + ".json", second.Alert.MessageId + ".json" }.Order());
    }

    [Fact]
    public async Task ListRecent_DeliveredLongerAgoThanRetention_DeletedPendingKeptWhateverItsAge()
    {
        var time = new FakeTimeProvider();
        var composer = new AlertComposer("n:1");
        var old = Record(composer.SessionTripped(new SessionTripped("old", TripReason.LoopLimit, 5, 10, At)), At);
        var stuck = Record(composer.SessionTripped(new SessionTripped("stuck", TripReason.LoopLimit, 5, 10, At)), At);
        var store = new FileAlertOutboxStore(_directory, TimeSpan.FromDays(7), time);
        await store.PutAsync(old);
        await store.PutAsync(stuck);
        await store.MarkDeliveredAsync(old.Alert.MessageId, "sns", At);
        await store.MarkDeliveredAsync(old.Alert.MessageId, "slack", At.AddHours(1));

        time.Advance(TimeSpan.FromDays(7));
        (await store.ListRecentAsync(10)).Count.ShouldBe(2);
        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromTicks(1));
        var recent = await store.ListRecentAsync(10);

        recent.Select(r => r.Alert.MessageId).ShouldBe([stuck.Alert.MessageId]);
        File.Exists(Path.Combine(_directory, old.Alert.MessageId + ".json")).ShouldBeFalse();
    }

    [Fact]
    public async Task ListPending_LeftoverTempFileAndCorruptRecord_IgnoredAndSetAside()
    {
        var store = new FileAlertOutboxStore(_directory);
        await File.WriteAllTextAsync(Path.Combine(_directory, "0123.json.abc.tmp"), "{\"half");
        await File.WriteAllTextAsync(Path.Combine(_directory, "0456.json"), "not json");

        (await store.ListPendingAsync()).ShouldBeEmpty();

        Directory.GetFiles(_directory).Select(Path.GetFileName).ShouldBe(["0456.json.corrupt"]);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    internal static AlertRecord Record(Alert alert, DateTimeOffset at) => new()
    {
        Alert = alert,
        StoredAt = at,
        Deliveries = [new SinkDelivery { Sink = "sns", NextAttemptAt = at }, new SinkDelivery { Sink = "slack", NextAttemptAt = at }],
    };
}
