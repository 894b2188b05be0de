using System.Collections.Concurrent;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance.Breakers;
using AgentGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Alerts.Tests;

/// <summary>The alert actor through <see cref="AlertService"/>, on fake time, publishing to a real loopback SNS endpoint.</summary>
public sealed class AlertServiceTests : IAsyncLifetime, IDisposable
{
    private const string TopicArn = "arn:aws:sns:us-east-1:123456789012:gateway-alerts";
    private static readonly TimeSpan Batch = AlertOptions.DefaultBatchWindow;
    private readonly FakeTimeProvider _time = new();
    private readonly HttpClient _http = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "alerts-svc-" + Guid.NewGuid().ToString("N"));
    private readonly List<AlertService> _services = [];
    private LoopbackEndpoint _sns = null!;

    public async Task InitializeAsync()
    {
        AwsTestCredentials.Use();
        _sns = await LoopbackEndpoint.StartAsync();
    }

    [Fact]
    public async Task Raise_ThreeTripsWithinBatchWindow_NothingPublishedUntilWindowEnds_ThenAllThree()
    {
        var (alerts, _) = NewService(new InMemoryAlertOutboxStore());
        var windowArmed = _time.WhenTimerArmed(Batch);

        alerts.Tripped(Trip("a"));
        alerts.Tripped(Trip("b"));
        alerts.Tripped(Trip("c"));
        await windowArmed;
        (await alerts.ListAsync()).Count.ShouldBe(3);

        _sns.Received.ShouldBeEmpty();
        _time.Advance(Batch);
        await _sns.WhenReceivedCount(3);

        _sns.Received.Select(r => r.Form()["MessageAttributes.entry.1.Value.StringValue"]).Order()
            .ShouldBe(new[] { "a", "b", "c" }.Select(s => Compose(Trip(s)).MessageId).Order());
    }

    [Fact]
    public async Task Raise_SameTripTwice_OneAlertStoredAndPublished()
    {
        var (alerts, observer) = NewService(new InMemoryAlertOutboxStore());
        var windowArmed = _time.WhenTimerArmed(Batch);

        alerts.Tripped(Trip("dup"));
        alerts.Tripped(Trip("dup"));
        await windowArmed;
        _time.Advance(Batch);
        await observer.WhenDelivered(1);

        var list = await alerts.ListAsync();
        list.ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem().Status.ShouldBe("delivered");
        observer.Suppressed.ShouldBe(["session_tripped/duplicate"]);
        _sns.Received.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Raise_SixBreakerOpensWithinRateWindow_FiveAlerts_SixthSuppressed_AcceptedAgainAfterWindow()
    {
        var (alerts, observer) = NewService(new InMemoryAlertOutboxStore(), batchWindow: TimeSpan.Zero);

        for (var i = 0; i < 6; i++)
        {
            alerts.BreakerTransition("haiku", Opened(_time.GetUtcNow().AddTicks(i)));
        }

        (await alerts.ListAsync()).Count.ShouldBe(5);
        observer.Suppressed.ShouldBe(["breaker_opened/rate_limited"]);

        // Time moves only once nothing is in flight: moving it past a publish's timeout would fail that publish.
        await observer.WhenDelivered(5);
        _time.Advance(AlertOptions.DefaultRateLimitWindow);
        alerts.BreakerTransition("haiku", Opened(_time.GetUtcNow()));

        (await alerts.ListAsync()).Count.ShouldBe(6);
        await observer.WhenDelivered(6);
        _sns.Received.Count.ShouldBe(6);
    }

    [Fact]
    public async Task Publish_SnsDownTwiceThenUp_RetriedAfter1sThen2s_EachAlertDeliveredOnce()
    {
        var (alerts, observer) = NewService(new InMemoryAlertOutboxStore());
        var up = false;
        _sns.Status = _ => up ? 200 : 503;
        var windowArmed = _time.WhenTimerArmed(Batch);
        var firstRetryArmed = _time.WhenTimerArmed(TimeSpan.FromSeconds(1));

        alerts.Tripped(Trip("x"));
        alerts.Tripped(Trip("y"));
        await windowArmed;
        _time.Advance(Batch);
        await observer.WhenFailed(2);
        await firstRetryArmed;

        var secondRetryArmed = _time.WhenTimerArmed(TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(1));
        await observer.WhenFailed(4);
        await secondRetryArmed;
        var failing = await alerts.ListAsync();
        failing.ShouldAllBe(a => a.Deliveries[0].Status == "retrying" && a.Deliveries[0].Attempts == 2 && a.Deliveries[0].LastError!.StartsWith("SNS Publish answered 503"));

        up = true;
        _time.Advance(TimeSpan.FromSeconds(2));
        await observer.WhenDelivered(2);

        var ok = _sns.Received.Where(r => r.AnsweredStatus == 200).Select(r => r.Form()["MessageAttributes.entry.1.Value.StringValue"]).ToList();
        ok.Order().ShouldBe(new[] { Compose(Trip("x")).MessageId, Compose(Trip("y")).MessageId }.Order());
        _sns.Received.Count.ShouldBe(6);
        var delivered = await alerts.ListAsync();
        delivered.ShouldAllBe(a => a.Deliveries[0].Status == "delivered" && a.Deliveries[0].Attempts == 3 && a.Deliveries[0].LastError == null);
        _time.ActiveTimers.ShouldBe(1); // the actor host's idle collection only: no retry left armed
    }

    [Fact]
    public async Task Publish_SnsHangsPastPublishTimeout_CountedAsFailure_RetriedAfter1s_Delivered()
    {
        var (alerts, observer) = NewService(new InMemoryAlertOutboxStore(), batchWindow: TimeSpan.Zero);
        var release = new TaskCompletionSource();
        _sns.Hold = release.Task;
        var publishStarted = _time.WhenTimerArmed(AlertOptions.DefaultPublishTimeout);
        var retryArmed = _time.WhenTimerArmed(TimeSpan.FromSeconds(1));

        alerts.Tripped(Trip("slow"));
        await publishStarted;
        _time.Advance(AlertOptions.DefaultPublishTimeout);
        await observer.WhenFailed(1);
        await retryArmed;

        var failing = (await alerts.ListAsync()).ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem();
        failing.Status.ShouldBe("retrying");
        failing.LastError.ShouldBe("no answer within 00:00:10");
        _sns.Hold = null;
        release.SetResult();
        _time.Advance(TimeSpan.FromSeconds(1));
        await observer.WhenDelivered(1);

        var delivered = (await alerts.ListAsync()).Single().Deliveries.Single();
        delivered.Status.ShouldBe("delivered");
        delivered.Attempts.ShouldBe(2);
    }

    [Fact]
    public async Task Restart_SnsDownThenUp_FileOutbox_NewServiceDeliversEveryStoredAlertOnce()
    {
        var (first, firstObserver) = NewService(new FileAlertOutboxStore(_directory));
        _sns.Status = static _ => 503;
        var windowArmed = _time.WhenTimerArmed(Batch);
        foreach (var s in new[] { "r1", "r2", "r3" })
        {
            first.Tripped(Trip(s));
        }

        await windowArmed;
        _time.Advance(Batch);
        await firstObserver.WhenFailed(3);
        await first.DisposeAsync();

        _sns.Status = static _ => 200;
        var (second, secondObserver) = NewService(new FileAlertOutboxStore(_directory));
        await second.RecoverAsync();
        await secondObserver.WhenDelivered(3);

        var ids = new[] { "r1", "r2", "r3" }.Select(s => Compose(Trip(s)).MessageId).Order().ToList();
        _sns.Received.Where(r => r.AnsweredStatus == 200).Select(r => r.Form()["MessageAttributes.entry.1.Value.StringValue"]).Order().ShouldBe(ids);
        (await new FileAlertOutboxStore(_directory).ListPendingAsync()).ShouldBeEmpty();
        secondObserver.Raised.ShouldBeEmpty();

        // A third start finds nothing to send, and a trip re-reported after the restart is not sent again.
        var (third, thirdObserver) = NewService(new FileAlertOutboxStore(_directory), batchWindow: TimeSpan.Zero);
        await third.RecoverAsync();
        third.Tripped(Trip("r1"));
        (await third.ListAsync()).Count.ShouldBe(3);
        thirdObserver.Suppressed.ShouldBe(["session_tripped/duplicate"]);
        _sns.Received.Count(r => r.AnsweredStatus == 200).ShouldBe(3);
    }

    private static SessionTripped Trip(string session) => new(session, TripReason.LoopLimit, 5, 100, FakeTimeProvider.DefaultStart);

    private static Alert Compose(SessionTripped trip) => new AlertComposer("test").SessionTripped(trip);

    private static BreakerTransition Opened(DateTimeOffset at) => new(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, at);

    private (AlertService Alerts, AlertSignals Observer) NewService(IAlertOutboxStore store, TimeSpan? batchWindow = null)
    {
        var options = new AlertOptions
        {
            Sinks = "sns",
            BatchWindow = batchWindow ?? Batch,
            Sns = new SnsSinkOptions { TopicArn = TopicArn, ServiceUrl = _sns.BaseAddress.ToString() },
        };
        var observer = new AlertSignals();
        var sink = new SnsAlertSink(_http, options.Sns, SnsAlertSink.DefaultCredentials(), _time);
        var service = new AlertService(options, store, [sink], _time, NullLoggerFactory.Instance, observer, "test");
        _services.Add(service);
        return (service, observer);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        _http.Dispose();
        await _sns.DisposeAsync();
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
