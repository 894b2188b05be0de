using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Sessions;
using AgentGateway.TestSupport;

namespace AgentGateway.Alerts.Tests;

/// <summary>The alert grain's bookkeeping on its own: no grain, no I/O, time passed in as values from a fixed start.</summary>
public sealed class AlertBookTests
{
    private const string Sns = AlertSinkNames.Sns;
    private const string Slack = AlertSinkNames.Slack;
    private static readonly DateTimeOffset T0 = FakeTimeProvider.DefaultStart;
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Accept_NewAlert_Accepted_SameIdAgain_Duplicate()
    {
        var book = new AlertBook(new AlertOptions());
        var alert = Trip("a");

        book.Accept(alert, T0).ShouldBe(AlertAcceptance.Accepted);
        book.Accept(alert, T0).ShouldBe(AlertAcceptance.Duplicate);
        book.Accept(alert, T0 + TimeSpan.FromDays(1)).ShouldBe(AlertAcceptance.Duplicate);
    }

    [Fact]
    public void Accept_SixthOfAKeyWithinTheRateWindow_RateLimited_AnotherKeyNot_AcceptedAgainOnceTheFirstLeavesTheWindow()
    {
        var book = new AlertBook(new AlertOptions { RateLimitPerKey = 5, RateLimitWindow = TimeSpan.FromMinutes(1) });

        for (var i = 0; i < 5; i++)
        {
            book.Accept(Trip("s", at: T0 + (i * Second)), T0 + (i * Second)).ShouldBe(AlertAcceptance.Accepted);
        }

        var last = T0 + TimeSpan.FromSeconds(59);
        book.Accept(Trip("s", at: last), last).ShouldBe(AlertAcceptance.RateLimited);
        book.Accept(Trip("other", at: last), last).ShouldBe(AlertAcceptance.Accepted);

        // The window slides: one minute after the first, that one no longer counts (and only that one).
        var minute = T0 + TimeSpan.FromMinutes(1);
        book.Accept(Trip("s", at: minute), minute).ShouldBe(AlertAcceptance.Accepted);
        book.Accept(Trip("s", at: minute + TimeSpan.FromTicks(1)), minute).ShouldBe(AlertAcceptance.RateLimited);
    }

    [Fact]
    public void Accept_RateLimitedAlertRaisedAgainLater_Duplicate_ItsIdWasRemembered()
    {
        var book = new AlertBook(new AlertOptions { RateLimitPerKey = 1 });
        book.Accept(Trip("s", at: T0), T0).ShouldBe(AlertAcceptance.Accepted);
        var limited = Trip("s", at: T0 + Second);

        book.Accept(limited, T0 + Second).ShouldBe(AlertAcceptance.RateLimited);

        book.Accept(limited, T0 + TimeSpan.FromHours(1)).ShouldBe(AlertAcceptance.Duplicate);
    }

    [Fact]
    public void Accept_WithoutRateLimit_EveryNewIdAccepted()
    {
        var book = new AlertBook(new AlertOptions { RateLimitPerKey = 1 });

        for (var i = 0; i < 3; i++)
        {
            book.Accept(Trip("s", at: T0 + (i * Second)), T0, rateLimited: false).ShouldBe(AlertAcceptance.Accepted);
        }
    }

    [Fact]
    public void NewRecord_DueToEverySinkAtOnce_NothingAttempted()
    {
        var record = AlertBook.NewRecord(Trip("a"), [Sns, Slack], "node:1", T0);

        record.StoredAt.ShouldBe(T0);
        record.Node.ShouldBe("node:1");
        record.IsPending.ShouldBeTrue();
        record.Deliveries.Select(d => (d.Sink, d.NextAttemptAt, d.Attempts, d.DeliveredAt, d.InFlight)).ShouldBe(
            [(Sns, T0, 0, null, false), (Slack, T0, 0, null, false)]);
    }

    [Fact]
    public void TakeDue_TakesEachSinksDueDeliveriesOldestFirst_InFlightOnesNotTakenAgainNorDue()
    {
        var book = new AlertBook(new AlertOptions());
        var older = Keep(book, "older", T0);
        var newer = Keep(book, "newer", T0 + Second);

        book.TakeDue(Sns, T0).ShouldBe([older.Alert]);
        book.TakeDue(Sns, T0 + Second).ShouldBe([newer.Alert]);
        book.TakeDue(Sns, T0 + Second).ShouldBeNull();
        book.NextDue().ShouldBe(T0); // the slack deliveries, not yet taken

        book.TakeDue(Slack, T0 + Second).ShouldBe([older.Alert, newer.Alert]);
        book.NextDue().ShouldBeNull();
        book.Snapshot().SelectMany(a => a.Deliveries).ShouldAllBe(d => d.Status == "publishing");
    }

    [Fact]
    public void Delivered_InFlight_MarkedWithTheAttempt_NotPending_ASecondReportChangesNothing()
    {
        var book = new AlertBook(new AlertOptions());
        var record = Keep(book, "a", T0, Sns);
        book.TakeDue(Sns, T0);

        book.Delivered(record.Alert.MessageId, Sns, T0 + Second).ShouldBeTrue();

        var delivery = record.Delivery(Sns)!;
        (delivery.DeliveredAt, delivery.LastAttemptAt, delivery.Attempts, delivery.InFlight).ShouldBe((T0 + Second, T0 + Second, 1, false));
        book.HasPending.ShouldBeFalse();
        book.Delivered(record.Alert.MessageId, Sns, T0 + (2 * Second)).ShouldBeFalse();
        delivery.Attempts.ShouldBe(1);
        book.Failed(record.Alert.MessageId, Sns, "late", T0 + (2 * Second)).ShouldBeNull();
        delivery.LastError.ShouldBeNull();
        book.Delivered("unknown", Sns, T0).ShouldBeFalse();
        book.Delivered(record.Alert.MessageId, Slack, T0).ShouldBeFalse();
    }

    [Fact]
    public void Delivered_NotInFlightHere_StillMarked_AnEarlierActivationsPublishReachedTheSink()
    {
        var book = new AlertBook(new AlertOptions());
        var record = Keep(book, "a", T0, Sns);

        book.Delivered(record.Alert.MessageId, Sns, T0 + Second).ShouldBeTrue();

        record.Delivery(Sns)!.DeliveredAt.ShouldBe(T0 + Second);
        book.TakeDue(Sns, T0 + Second).ShouldBeNull();
    }

    [Fact]
    public void Failed_EachAttempt_WaitsTwiceAsLongFrom1s_NextDueIsTheRetry_TakenOnlyWhenDue()
    {
        var book = new AlertBook(new AlertOptions());
        var record = Keep(book, "a", T0, Sns);
        var now = T0;

        foreach (var wait in new[] { 1, 2, 4 })
        {
            book.TakeDue(Sns, now).ShouldHaveSingleItem();
            book.Failed(record.Alert.MessageId, Sns, "503", now).ShouldBeSameAs(record);
            var next = now + TimeSpan.FromSeconds(wait);
            record.Delivery(Sns)!.NextAttemptAt.ShouldBe(next);
            book.NextDue().ShouldBe(next);
            book.TakeDue(Sns, next - TimeSpan.FromTicks(1)).ShouldBeNull();
            now = next;
        }

        var delivery = record.Delivery(Sns)!;
        (delivery.Attempts, delivery.LastError, delivery.LastAttemptAt, delivery.InFlight).ShouldBe((3, "503", T0 + TimeSpan.FromSeconds(3), false));
        book.Snapshot().Single().Deliveries.Single().Status.ShouldBe("retrying");
        book.HasPending.ShouldBeTrue();
    }

    [Fact]
    public void Failed_NotInFlightHere_Ignored_TheLateReportOfAnEarlierActivationsPublish()
    {
        var book = new AlertBook(new AlertOptions());
        var record = Keep(book, "a", T0, Sns);

        book.Failed(record.Alert.MessageId, Sns, "503", T0).ShouldBeNull();

        (record.Delivery(Sns)!.Attempts, record.Delivery(Sns)!.NextAttemptAt).ShouldBe((0, T0));
        book.Failed("unknown", Sns, "503", T0).ShouldBeNull();
    }

    [Fact]
    public void Backoff_DoublesFromTheBaseDelay_CappedAtTheMaxDelay()
    {
        var book = new AlertBook(new AlertOptions());

        Enumerable.Range(1, 11).Select(book.Backoff).Select(static d => d.TotalSeconds)
            .ShouldBe([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        book.Backoff(10_000).ShouldBe(AlertOptions.DefaultRetryMaxDelay);
    }

    [Fact]
    public void Keep_BeyondRecentLimit_OldestDeliveredForgotten_PendingOnesKeptWhereverTheyAre_ForgottenIdsStillDuplicates()
    {
        var book = new AlertBook(new AlertOptions { RecentLimit = 3 });
        var records = new[] { "a", "b", "c", "d", "e" }.Select((s, i) => Keep(book, s, T0 + (i * Second), Sns)).ToArray();
        book.TakeDue(Sns, T0 + TimeSpan.FromMinutes(1));

        // "a", the oldest, stays undelivered (its sink is down for it): the delivered ones after it are trimmed all the same.
        foreach (var record in records[1..])
        {
            book.Delivered(record.Alert.MessageId, Sns, T0 + TimeSpan.FromMinutes(1)).ShouldBeTrue();
        }

        Sessions(book).ShouldBe(["e", "d", "a"]);
        book.HasPending.ShouldBeTrue();
        book.Accept(records[1].Alert, T0 + TimeSpan.FromMinutes(2)).ShouldBe(AlertAcceptance.Duplicate);

        // Once delivered, "a" is the oldest delivered one, and the next alert kept pushes it out.
        book.Delivered(records[0].Alert.MessageId, Sns, T0 + TimeSpan.FromMinutes(2)).ShouldBeTrue();
        Keep(book, "f", T0 + TimeSpan.FromMinutes(3), Sns);

        Sessions(book).ShouldBe(["f", "e", "d"]);
    }

    [Fact]
    public void Keep_MoreUndeliveredThanTheRecentLimit_EveryOneKept()
    {
        var book = new AlertBook(new AlertOptions { RecentLimit = 2 });

        foreach (var (s, i) in new[] { "a", "b", "c", "d" }.Select((s, i) => (s, i)))
        {
            Keep(book, s, T0 + (i * Second), Sns);
        }

        Sessions(book).ShouldBe(["d", "c", "b", "a"]);
    }

    [Fact]
    public void Keep_SameRecordTwice_HeldOnce()
    {
        var book = new AlertBook(new AlertOptions());
        var record = Keep(book, "a", T0, Sns);

        book.Keep(record.Copy());

        book.Snapshot().ShouldHaveSingleItem();
    }

    private static Alert Trip(string session, DateTimeOffset? at = null) =>
        new AlertComposer("test").SessionTripped(new SessionTripped(session, TripReason.LoopLimit, 5, 100, at ?? T0));

    private static AlertRecord Keep(AlertBook book, string session, DateTimeOffset at, params string[] sinks)
    {
        var record = AlertBook.NewRecord(Trip(session, at), sinks.Length == 0 ? [Sns, Slack] : sinks, "test", at);
        book.Keep(record);
        return record;
    }

    private static string?[] Sessions(AlertBook book) => [.. book.Snapshot().Select(static a => a.Body.SessionId)];
}
