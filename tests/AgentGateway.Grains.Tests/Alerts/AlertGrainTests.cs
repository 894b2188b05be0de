using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Alerts.Tests;
using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains.Alerts;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Orleans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentGateway.Grains.Tests.Alerts;

/// <summary>
/// The alert outbox grain on a one-silo test cluster of its own per test (its options, outbox store and sinks), on fake
/// time, publishing to a real loopback SNS endpoint: batching, dedupe, rate limit, retries with backoff, timeouts, the
/// outbox across a restart, and what the grain adds: its reminder, and delivery after a deactivation.
/// </summary>
[Collection(AlertGrainCollection.Name)]
public sealed class AlertGrainTests : IAsyncLifetime, IDisposable
{
    private const string TopicArn = "arn:aws:sns:us-east-1:123456789012:gateway-alerts";
    private static readonly TimeSpan Batch = AlertOptions.DefaultBatchWindow;
    private static readonly ulong LoopTask = TaskFingerprint.Compute(1, "do it [[sim:loop]]");
    private readonly HttpClient _http = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "alert-grain-" + Guid.NewGuid().ToString("N"));
    private readonly List<GrainTestCluster> _clusters = [];
    private LoopbackEndpoint _sns = null!;

    public async Task InitializeAsync()
    {
        AwsTestCredentials.Use();
        _sns = await LoopbackEndpoint.StartAsync();
    }

    [Fact]
    public async Task SessionTrippedAsync_ThreeTripsWithinBatchWindow_NothingPublishedUntilWindowEnds_ThenAllThree()
    {
        var outbox = await StartAsync(new InMemoryAlertOutboxStore());
        var windowArmed = outbox.Time.WhenTimerArmed(Batch);

        await outbox.Alerts.SessionTrippedAsync(Trip("a"));
        await outbox.Alerts.SessionTrippedAsync(Trip("b"));
        await outbox.Alerts.SessionTrippedAsync(Trip("c"));
        await windowArmed;
        (await outbox.Alerts.ListAsync()).Count.ShouldBe(3);

        _sns.Received.ShouldBeEmpty();
        outbox.Time.Advance(Batch);
        await _sns.WhenReceivedCount(3);

        AlertIds(_sns.Received).Order().ShouldBe(new[] { "a", "b", "c" }.Select(IdOf).Order());
    }

    [Fact]
    public async Task SessionTrippedAsync_SameTripTwice_OneAlertStoredAndPublished()
    {
        var store = new InMemoryAlertOutboxStore();
        var outbox = await StartAsync(store);
        var windowArmed = outbox.Time.WhenTimerArmed(Batch);

        await outbox.Alerts.SessionTrippedAsync(Trip("dup"));
        await outbox.Alerts.SessionTrippedAsync(Trip("dup"));
        await windowArmed;
        outbox.Time.Advance(Batch);
        await outbox.Signals.WhenDelivered(1);

        var list = await outbox.Alerts.ListAsync();
        list.ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem().Status.ShouldBe("delivered");
        outbox.Signals.Suppressed.ShouldBe(["session_tripped/duplicate"]);
        (await store.ListRecentAsync(10)).ShouldHaveSingleItem();
        await _sns.WhenReceivedCount(1);
        _sns.Received.Count.ShouldBe(1);
    }

    [Fact]
    public async Task BreakerTransitionedAsync_SixOpensWithinRateWindow_FiveAlerts_SixthSuppressed_AcceptedAgainAfterWindow()
    {
        var outbox = await StartAsync(new InMemoryAlertOutboxStore(), batchWindow: TimeSpan.Zero);

        // One-way calls: the caller gets no answer, so the signals say when the grain has decided on each.
        for (var i = 0; i < 6; i++)
        {
            await outbox.Alerts.BreakerTransitionedAsync("haiku", Opened(outbox.Time.GetUtcNow().AddTicks(i)));
        }

        await outbox.Signals.WhenDecided(6);
        (await outbox.Alerts.ListAsync()).Count.ShouldBe(5);
        outbox.Signals.Suppressed.ShouldBe(["breaker_opened/rate_limited"]);

        // Time moves only once nothing is in flight: moving it past a publish's timeout would fail that publish.
        await outbox.Signals.WhenDelivered(5);
        outbox.Time.Advance(AlertOptions.DefaultRateLimitWindow);
        await outbox.Alerts.BreakerTransitionedAsync("haiku", Opened(outbox.Time.GetUtcNow()));

        await outbox.Signals.WhenDecided(7);
        (await outbox.Alerts.ListAsync()).Count.ShouldBe(6);
        await outbox.Signals.WhenDelivered(6);
        await _sns.WhenReceivedCount(6);
        _sns.Received.Count.ShouldBe(6);
    }

    [Fact]
    public async Task Publish_SnsDownTwiceThenUp_RetriedAfter1sThen2s_EachAlertDeliveredOnce()
    {
        var outbox = await StartAsync(new InMemoryAlertOutboxStore());
        var up = false;
        _sns.Status = _ => up ? 200 : 503;
        var windowArmed = outbox.Time.WhenTimerArmed(Batch);
        var firstRetryArmed = outbox.Time.WhenTimerArmed(TimeSpan.FromSeconds(1));

        await outbox.Alerts.SessionTrippedAsync(Trip("x"));
        await outbox.Alerts.SessionTrippedAsync(Trip("y"));
        await windowArmed;
        outbox.Time.Advance(Batch);
        await outbox.Signals.WhenFailed(2);
        await firstRetryArmed;

        var secondRetryArmed = outbox.Time.WhenTimerArmed(TimeSpan.FromSeconds(2));
        outbox.Time.Advance(TimeSpan.FromSeconds(1));
        await outbox.Signals.WhenFailed(4);
        await secondRetryArmed;
        var failing = await outbox.Alerts.ListAsync();
        failing.ShouldAllBe(a => a.Deliveries[0].Status == "retrying" && a.Deliveries[0].Attempts == 2 && a.Deliveries[0].LastError!.StartsWith("SNS Publish answered 503"));
        failing.ShouldAllBe(a => a.Deliveries[0].NextAttemptAt == outbox.Time.GetUtcNow() + TimeSpan.FromSeconds(2));

        up = true;
        outbox.Time.Advance(TimeSpan.FromSeconds(2));
        await outbox.Signals.WhenDelivered(2);

        await _sns.WhenReceivedCount(6);
        _sns.Received.Count.ShouldBe(6);
        AlertIds(_sns.Received.Where(r => r.AnsweredStatus == 200)).Order().ShouldBe(new[] { IdOf("x"), IdOf("y") }.Order());
        var delivered = await outbox.Alerts.ListAsync();
        delivered.ShouldAllBe(a => a.Deliveries[0].Status == "delivered" && a.Deliveries[0].Attempts == 3 && a.Deliveries[0].LastError == null);

        // The old actor host's idle collection was the one timer left (1). Now it is the silo's load publisher (moved to
        // a 30-day period above; Orleans' other timers run on real time): the grain's timer is disarmed once no retry
        // waits, and each publish's timeout timer is gone with its publish.
        outbox.Time.ActiveTimers.ShouldBe(1);
    }

    [Fact]
    public async Task Publish_SnsHangsPastPublishTimeout_CountedAsFailure_RetriedAfter1s_Delivered()
    {
        var outbox = await StartAsync(new InMemoryAlertOutboxStore(), batchWindow: TimeSpan.Zero);
        var release = new TaskCompletionSource();
        _sns.Hold = release.Task;
        var publishStarted = outbox.Time.WhenTimerArmed(AlertOptions.DefaultPublishTimeout);
        var retryArmed = outbox.Time.WhenTimerArmed(TimeSpan.FromSeconds(1));

        await outbox.Alerts.SessionTrippedAsync(Trip("slow"));
        await publishStarted;
        outbox.Time.Advance(AlertOptions.DefaultPublishTimeout);
        await outbox.Signals.WhenFailed(1);
        await retryArmed;

        var failing = (await outbox.Alerts.ListAsync()).ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem();
        failing.Status.ShouldBe("retrying");
        failing.LastError.ShouldBe("no answer within 00:00:10");
        _sns.Hold = null;
        release.SetResult();
        outbox.Time.Advance(TimeSpan.FromSeconds(1));
        await outbox.Signals.WhenDelivered(1);

        var delivered = (await outbox.Alerts.ListAsync()).Single().Deliveries.Single();
        delivered.Status.ShouldBe("delivered");
        delivered.Attempts.ShouldBe(2);
    }

    /// <summary>
    /// Each silo names itself as a new process would (its own node id): a restart must deliver what the previous
    /// process stored, whoever raised it.
    /// </summary>
    [Fact]
    public async Task Restart_SnsDownThenUp_FileOutbox_NewSiloDeliversEveryStoredAlertOnce_ReReportedTripDeduped()
    {
        var sessions = new[] { "r1", "r2", "r3" };
        var first = await StartAsync(new FileAlertOutboxStore(_directory), node: "node:1001");
        _sns.Status = static _ => 503;
        var windowArmed = first.Time.WhenTimerArmed(Batch);
        foreach (var s in sessions)
        {
            await first.Alerts.SessionTrippedAsync(Trip(s));
        }

        await windowArmed;
        first.Time.Advance(Batch);
        await first.Signals.WhenFailed(3);
        await StopAsync(first);

        _sns.Status = static _ => 200;
        var second = await StartAsync(new FileAlertOutboxStore(_directory), node: "node:1002", time: first.Time);
        await second.Alerts.RecoverAsync();
        await second.Signals.WhenDelivered(3);

        var ids = sessions.Select(IdOf).Order().ToList();
        await _sns.WhenReceivedCount(6);
        AlertIds(_sns.Received.Where(r => r.AnsweredStatus == 200)).Order().ShouldBe(ids);
        (await second.Alerts.ListAsync()).ShouldAllBe(a => a.Deliveries[0].Status == "delivered" && a.Deliveries[0].Attempts == 2);
        second.Signals.Raised.ShouldBeEmpty();
        await StopAsync(second);
        (await new FileAlertOutboxStore(_directory).ListPendingAsync()).ShouldBeEmpty();

        // A third start finds nothing to send, and a trip re-reported after the restart is not sent again.
        var third = await StartAsync(new FileAlertOutboxStore(_directory), batchWindow: TimeSpan.Zero, node: "node:1003", time: first.Time);
        await third.Alerts.RecoverAsync();
        await third.Alerts.SessionTrippedAsync(Trip("r1"));
        (await third.Alerts.ListAsync()).Count.ShouldBe(3);
        third.Signals.Suppressed.ShouldBe(["session_tripped/duplicate"]);
        _sns.Received.Count(r => r.AnsweredStatus == 200).ShouldBe(3);
        (await third.Cluster.RemindersOf(third.Alerts)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Reminder_RegisteredWhileAnythingIsUndelivered_RemovedOnceAllIsDelivered()
    {
        var outbox = await StartAsync(new InMemoryAlertOutboxStore(), batchWindow: TimeSpan.Zero);
        _sns.Status = static _ => 503;
        var retryArmed = outbox.Time.WhenTimerArmed(TimeSpan.FromSeconds(1));

        // Registered before the trip is answered: the alert is stored and will be delivered even if the grain goes.
        await outbox.Alerts.SessionTrippedAsync(Trip("rem"));
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldHaveSingleItem().ReminderName.ShouldBe(AlertGrain.ReminderName);

        await outbox.Signals.WhenFailed(1);
        await retryArmed;
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldHaveSingleItem();

        _sns.Status = static _ => 200;
        outbox.Time.Advance(TimeSpan.FromSeconds(1));
        await outbox.Signals.WhenDelivered(1);

        // The delivery's turn removes the reminder after it signals; a call queued behind that turn waits for it.
        await outbox.Alerts.ListAsync();
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReceiveReminder_OutboxDeactivatedWithUndelivered_TheTickBringsItBackAndItDelivers()
    {
        var outbox = await StartAsync(new InMemoryAlertOutboxStore(), batchWindow: TimeSpan.Zero);
        _sns.Status = static _ => 503;
        await outbox.Alerts.SessionTrippedAsync(Trip("gone"));
        await outbox.Signals.WhenFailed(1);

        await outbox.Cluster.Cluster.DeactivateAsync(outbox.Alerts);
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldHaveSingleItem();
        _sns.Status = static _ => 200;

        // The reminder service would tick after a real minute: the same call, made through the grain's IRemindable.
        var now = outbox.Time.GetUtcNow().UtcDateTime;
        await outbox.Alerts.AsReference<IRemindable>().ReceiveReminder(AlertGrain.ReminderName, new TickStatus(now, AlertOptions.DefaultReminderPeriod, now));
        await outbox.Signals.WhenDelivered(1);

        // Read behind the delivery's turn, which removes the reminder after it signals.
        var delivery = (await outbox.Alerts.ListAsync()).ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem();
        delivery.Status.ShouldBe("delivered");
        delivery.Attempts.ShouldBe(2);
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldBeEmpty();
        await _sns.WhenReceivedCount(2);
        _sns.Received.Select(r => r.AnsweredStatus).ShouldBe([503, 200]);
    }

    [Fact]
    public async Task OnActivateAsync_OutboxDeactivatedWithUndelivered_NextActivationDeliversAtOnceNotAfterTheBackoff()
    {
        var store = new InMemoryAlertOutboxStore();
        var outbox = await StartAsync(store, batchWindow: TimeSpan.Zero);
        _sns.Status = static _ => 503;
        await outbox.Alerts.SessionTrippedAsync(Trip("back"));
        await outbox.Signals.WhenFailed(1);
        var stored = (await store.ListPendingAsync()).ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem();
        stored.NextAttemptAt.ShouldBe(outbox.Time.GetUtcNow() + TimeSpan.FromSeconds(1));

        await outbox.Cluster.Cluster.DeactivateAsync(outbox.Alerts);
        _sns.Status = static _ => 200;
        await outbox.Alerts.ListAsync();
        await outbox.Signals.WhenDelivered(1);

        // The clock never moved: the new activation took the stored alert as due now.
        var delivery = (await outbox.Alerts.ListAsync()).Single().Deliveries.Single();
        delivery.Status.ShouldBe("delivered");
        delivery.DeliveredAt.ShouldBe(outbox.Time.GetUtcNow());
        (await store.ListPendingAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task ReceiveReminder_OutboxUnreadableAsTheGrainActivated_ReminderKept_TheTickReadsItAgainAndDelivers()
    {
        var store = new UnreadableOnceOutboxStore();
        var left = AlertBook.NewRecord(new AlertComposer("node:1001").SessionTripped(Trip("left")), [AlertSinkNames.Sns], "node:1001", FakeTimeProvider.DefaultStart);
        (await store.Inner.TryAddAsync(left)).ShouldBeTrue();
        var outbox = await StartAsync(store, node: "node:1002");

        await outbox.Alerts.RecoverAsync();
        (await outbox.Alerts.ListAsync()).ShouldBeEmpty();
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldHaveSingleItem().ReminderName.ShouldBe(AlertGrain.ReminderName);

        var now = outbox.Time.GetUtcNow().UtcDateTime;
        await outbox.Alerts.AsReference<IRemindable>().ReceiveReminder(AlertGrain.ReminderName, new TickStatus(now, AlertOptions.DefaultReminderPeriod, now));
        await outbox.Signals.WhenDelivered(1);

        (await outbox.Alerts.ListAsync()).ShouldHaveSingleItem().Deliveries.ShouldHaveSingleItem().Status.ShouldBe("delivered");
        (await outbox.Cluster.RemindersOf(outbox.Alerts)).ShouldBeEmpty();
        await _sns.WhenReceivedCount(1);
        AlertIds(_sns.Received).ShouldBe([IdOf("left")]);
    }

    [Fact]
    public async Task AdmitAsync_Trip_AnsweredOnlyOnceItsAlertIsInTheOutboxStore()
    {
        var store = new GatedOutboxStore();
        var cluster = await GrainTestCluster.StartAsync(services: s => s.AddSingleton<IAlertOutboxStore>(store));
        _clusters.Add(cluster);
        var id = "s-" + Guid.NewGuid().ToString("N");
        var session = cluster.Grains.GetGrain<ISessionGrain>(id);
        for (var i = 0; i < 5; i++)
        {
            (await session.AdmitAsync(new TurnInfo(TurnKind.Continuation, LoopTask, 3))).Allowed.ShouldBeTrue();
        }

        var trip = session.AdmitAsync(new TurnInfo(TurnKind.Continuation, LoopTask, 3));
        await store.AddStarted;

        // The alert grain is inside the store's insert, held by the test: the trip is not answered meanwhile.
        trip.IsCompleted.ShouldBeFalse();
        (await store.Inner.ListRecentAsync(10)).ShouldBeEmpty();
        store.Release();
        var admission = await trip;

        admission.NewlyTripped.ShouldBeTrue();
        var alert = (await store.Inner.ListRecentAsync(10)).ShouldHaveSingleItem().Alert;
        alert.Kind.ShouldBe(AlertKinds.SessionTripped);
        alert.Body.SessionId.ShouldBe(id);
        alert.Body.Reason.ShouldBe("loop_limit");
        alert.Body.LoopCount.ShouldBe(5);
    }

    private static SessionTripped Trip(string session) => new(session, TripReason.LoopLimit, 5, 100, FakeTimeProvider.DefaultStart);

    private static string IdOf(string session) => new AlertComposer("any").SessionTripped(Trip(session)).MessageId;

    private static IEnumerable<string> AlertIds(IEnumerable<ReceivedRequest> requests) =>
        requests.Select(static r => r.Form()["MessageAttributes.entry.1.Value.StringValue"]);

    private static BreakerTransition Opened(DateTimeOffset at) => new(BreakerStatus.Closed, BreakerStatus.Open, BreakerTransitionReason.ConsecutiveFailures, at);

    /// <summary>A silo whose alert grain publishes to the loopback SNS endpoint; <paramref name="node"/> is the node it names.</summary>
    private async Task<Outbox> StartAsync(IAlertOutboxStore store, TimeSpan? batchWindow = null, string node = "test", FakeTimeProvider? time = null)
    {
        var options = new AlertOptions
        {
            Sinks = "sns",
            BatchWindow = batchWindow ?? Batch,
            Sns = new SnsSinkOptions { TopicArn = TopicArn, ServiceUrl = _sns.BaseAddress.ToString() },
        };
        var signals = new AlertSignals();
        var clock = time ?? new FakeTimeProvider();
        var sink = new SnsAlertSink(_http, options.Sns, SnsAlertSink.DefaultCredentials(), clock);
        var cluster = await GrainTestCluster.StartAsync(
            services: s =>
            {
                // The silo's load publisher is a system target whose grain timer runs on the grains' clock too, every
                // second by default: moved out of the way, so the timers armed on the clock are the alert grain's.
                s.Configure<DeploymentLoadPublisherOptions>(static o => o.DeploymentLoadPublisherRefreshTime = TimeSpan.FromDays(30));
                s.AddSingleton(Options.Create(options));
                s.AddSingleton(store);
                s.AddSingleton<IEnumerable<IAlertSink>>([sink]);
                s.AddSingleton<IAlertObserver>(signals);
                s.AddSingleton(new AlertComposer(node));
            },
            time: clock);
        _clusters.Add(cluster);
        return new Outbox(cluster, cluster.Grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox), signals);
    }

    private async Task StopAsync(Outbox outbox)
    {
        _clusters.Remove(outbox.Cluster);
        await outbox.Cluster.DisposeAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var cluster in _clusters)
        {
            await cluster.DisposeAsync();
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

    private sealed record Outbox(GrainTestCluster Cluster, IAlertGrain Alerts, AlertSignals Signals)
    {
        public FakeTimeProvider Time => Cluster.Time;
    }

    /// <summary>An in-memory outbox whose inserts wait for the test: a store that is slow to write.</summary>
    private sealed class GatedOutboxStore : DelegatingOutboxStore
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when an insert has begun (and waits for <see cref="Release"/>).</summary>
        public Task AddStarted => _started.Task;

        public void Release() => _release.TrySetResult();

        public override async Task<bool> TryAddAsync(AlertRecord record, CancellationToken cancellationToken = default)
        {
            _started.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
            return await base.TryAddAsync(record, cancellationToken);
        }
    }

    /// <summary>An in-memory outbox that cannot be listed the first time (a storage outage as the grain activates).</summary>
    private sealed class UnreadableOnceOutboxStore : DelegatingOutboxStore
    {
        private int _reads;

        public override Task<IReadOnlyList<AlertRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _reads) == 1
                ? throw new IOException("The outbox is not reachable.")
                : base.ListRecentAsync(limit, cancellationToken);
    }

    /// <summary>An in-memory outbox (<see cref="Inner"/>, which tests read directly) that tests change one call of.</summary>
    private abstract class DelegatingOutboxStore : IAlertOutboxStore
    {
        public InMemoryAlertOutboxStore Inner { get; } = new();

        public virtual Task<bool> TryAddAsync(AlertRecord record, CancellationToken cancellationToken = default) => Inner.TryAddAsync(record, cancellationToken);

        public Task PutAsync(AlertRecord record, CancellationToken cancellationToken = default) => Inner.PutAsync(record, cancellationToken);

        public Task MarkDeliveredAsync(string messageId, string sink, DateTimeOffset at, CancellationToken cancellationToken = default) =>
            Inner.MarkDeliveredAsync(messageId, sink, at, cancellationToken);

        public Task<IReadOnlyList<AlertRecord>> ListPendingAsync(CancellationToken cancellationToken = default) => Inner.ListPendingAsync(cancellationToken);

        public virtual Task<IReadOnlyList<AlertRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken = default) =>
            Inner.ListRecentAsync(limit, cancellationToken);
    }
}

/// <summary>
/// The alert grain tests run on their own, after the parallel ones: each starts silos of its own, and on two cores that
/// load would slow the session tests' shared cluster (and theirs the fake-clock waits here).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AlertGrainCollection
{
    public const string Name = "Alert grain";
}
