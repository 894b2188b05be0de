using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Alerts;
using AgentGateway.Alerts.Tests;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Silo.Dashboard;
using AgentGateway.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The dashboard's push feed <c>GET /admin/events</c> on a node of its own with the frozen clock: a snapshot at once,
/// the next one only after the feed's interval (a delay on the node's <see cref="TimeProvider"/>) and only when
/// something changed; admin-authenticated like every <c>/admin</c> path.
/// <remarks>
/// Its own collection, run on its own: its nodes open and close sockets, which would move the process-wide open-file
/// count that <c>NodeAdminTests</c> compares before and after.
/// </remarks>
[Collection(DashboardFeedCollection.Name)]
public sealed class DashboardFeedTests : IAsyncLifetime
{
    /// <summary>An interval no other timer of the node uses, so <c>WhenTimerArmed</c> sees the feed's own delay.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(777);

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(15);

    private readonly string _outbox = Path.Combine(Path.GetTempPath(), "dashboard-outbox-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task Events_Trip_SnapshotAtOnceTripInTheNextAfterTheIntervalUnchangedStateSendsNothing()
    {
        var signals = new AlertSignals();
        await using var factory = NewNode(signals);
        using var http = new HttpClient { BaseAddress = factory.StartOnKestrel(), Timeout = Timeout.InfiniteTimeSpan };
        var time = factory.Time;

        var armed = time.WhenTimerArmed(Interval);
        using var response = await http.GetAsync("/admin/events", HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await ReadSnapshotAsync(reader);
        ((string?)first["at"]).ShouldNotBeNull();
        first["sessions"]!.AsArray().ShouldBeEmpty();
        first["breakers"]!.AsArray().Select(b => (string?)b!["model"]).ShouldContain("haiku");
        first["breakers"]!.AsArray().ShouldAllBe(b => (string?)b!["state"] == "closed");
        first["nodes"]!.AsArray().Count.ShouldBe(1);
        ((int)first["limits"]!["windowSeconds"]!).ShouldBe(60);
        await armed;

        // A session trips (and its alert is delivered) between two ticks: nothing is sent until the interval is up.
        var session = GatewayFixture.NewSessionId();
        await Chat.TripAsync(http, session);
        await signals.WhenDelivered(1);
        armed = time.WhenTimerArmed(Interval);
        time.Advance(Interval);

        var second = await ReadSnapshotAsync(reader);
        var tripped = second["sessions"]!.AsArray().Single()!;
        ((string?)tripped["sessionId"]).ShouldBe(session);
        ((string?)tripped["status"]).ShouldBe("tripped");
        ((string?)tripped["tripReason"]).ShouldBe("loop_limit");
        ((int)tripped["loopCount"]!).ShouldBe(5);
        ((int)tripped["maxLoops"]!).ShouldBe(5);
        var velocity = tripped["velocity"]!.AsArray().Select(v => (long)v!).ToArray();
        velocity.Length.ShouldBe(10);
        velocity[^1].ShouldBe((long)tripped["tokensInWindow"]!);
        velocity[^1].ShouldBeGreaterThan(0);
        var alert = second["alerts"]!.AsArray().Single()!;
        ((string?)alert["text"]).ShouldBe($"CRITICAL: Session ID [{session}] terminated due to loop limit");
        ((string?)alert["deliveries"]![0]!["status"]).ShouldBe("delivered");
        DateTimeOffset.Parse((string)second["at"]!, CultureInfo.InvariantCulture).ShouldBe(time.GetUtcNow());
        await armed;

        // Two more ticks with nothing changed: the feed takes its snapshot, sends nothing, and waits again.
        for (var tick = 0; tick < 2; tick++)
        {
            armed = time.WhenTimerArmed(Interval);
            time.Advance(Interval);
            await armed;
        }

        // The operator resumes: the very next event is the one that shows it (nothing was sent in between).
        using (var resumed = await http.PostAsJsonAsync($"/admin/sessions/{session}/resume", new { note = "checked by a test" }))
        {
            resumed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        time.Advance(Interval);
        var third = await ReadSnapshotAsync(reader);
        ((string?)third["sessions"]![0]!["status"]).ShouldBe("active");
        DateTimeOffset.Parse((string)third["at"]!, CultureInfo.InvariantCulture).ShouldBe(time.GetUtcNow());
    }

    [Fact]
    public async Task Events_AdminKeyConfigured_NoKey401AdminKeyStreams()
    {
        await using var factory = new GatewayFactory(new Dictionary<string, string>
        {
            ["Gateway:AdminApiKey"] = "dashboard-test-admin-key-0123456789",
            ["Alerts:OutboxDirectory"] = _outbox,
        });
        using var http = new HttpClient { BaseAddress = factory.StartOnKestrel(), Timeout = Timeout.InfiniteTimeSpan };

        using (var refused = await http.GetAsync("/admin/events", HttpCompletionOption.ResponseHeadersRead))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "dashboard-test-admin-key-0123456789");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await ReadSnapshotAsync(reader))["breakers"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Events_CallerWithoutLoopbackAddressAndNoKey_Returns403AdminForbidden()
    {
        await using var factory = new GatewayFactory(new Dictionary<string, string> { ["Alerts:OutboxDirectory"] = _outbox });
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/admin/events", HttpCompletionOption.ResponseHeadersRead);

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "admin-forbidden");
    }

    [Fact]
    public async Task Dashboard_Page_ServedWithoutAdminAccessAndWithItsPolicy()
    {
        await using var factory = new GatewayFactory(new Dictionary<string, string> { ["Alerts:OutboxDirectory"] = _outbox });
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/dashboard");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("connect-src 'self'");
        (await response.Content.ReadAsStringAsync()).ShouldContain("dashboard.js");
    }

    [Theory]
    [InlineData(null, 500)]
    [InlineData("00:00:00.25", 250)]
    [InlineData("00:00:02", 2000)]
    public void IntervalFrom_UnsetOrValid_DefaultOrTheSetting(string? configured, int milliseconds)
        => DashboardFeed.IntervalFrom(configured).ShouldBe(TimeSpan.FromMilliseconds(milliseconds));

    [Theory]
    [InlineData("00:00:00.01")]
    [InlineData("soon")]
    public void IntervalFrom_TooShortOrNotATimeSpan_FailsWithTheSettingNamed(string configured)
        => Should.Throw<InvalidOperationException>(() => DashboardFeed.IntervalFrom(configured)).Message.ShouldContain("Dashboard:Interval");

    [Fact]
    public void Velocity_StoredBuckets_PlacedOldestFirstEndingAtTheCurrentBucketExpiredOnesDropped()
    {
        // 60 s in 10 buckets of 6 s; now is in bucket 1000 (counted from the Unix epoch).
        var bucketTicks = TimeSpan.FromSeconds(6).Ticks;
        var now = DateTimeOffset.UnixEpoch.AddTicks((1000 * bucketTicks) + 1);
        var state = new SessionState("s", 1, SessionStatus.Active, TripReason.None, null, 0, 0, 0, [], [985, 991, 995, 1000], [7, 11, 13, 17], now);

        var series = DashboardFeed.Velocity(state, now, bucketTicks, 10);

        series.ShouldBe([11, 0, 0, 0, 13, 0, 0, 0, 0, 17]);
    }

    private GatewayFactory NewNode(AlertSignals signals) => new(
        new Dictionary<string, string>(GatewayFixture.SharedSettings)
        {
            ["Dashboard:Interval"] = Interval.ToString("c", CultureInfo.InvariantCulture),
            ["Alerts:OutboxDirectory"] = _outbox,
            ["Alerts:BatchWindow"] = "00:00:00",
        },
        services => services.AddSingleton<IAlertObserver>(signals));

    /// <summary>Reads one event and asserts it is a <c>snapshot</c> with one <c>data</c> line.</summary>
    private static async Task<JsonObject> ReadSnapshotAsync(StreamReader reader)
    {
        var lines = new List<string>();
        while (await reader.ReadLineAsync().WaitAsync(ReadTimeout) is { } line && line.Length > 0)
        {
            lines.Add(line);
        }

        lines.Count.ShouldBe(2);
        lines[0].ShouldBe("event: snapshot");
        lines[1].ShouldStartWith("data: ");
        return JsonNode.Parse(lines[1]["data: ".Length..])!.AsObject();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DashboardFeedCollection
{
    public const string Name = "Dashboard feed";
}
