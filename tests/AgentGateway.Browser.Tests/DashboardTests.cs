using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Browser.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AgentGateway.Browser.Tests;

/// <summary>
/// The operator dashboard in headless Chromium against a real node of its own (no keys: loopback callers are
/// operators), real time: what the node does shows up through the pushed feed, with no reload.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardTests(BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _outbox = Path.Combine(Path.GetTempPath(), "dashboard-browser-outbox-" + Guid.NewGuid().ToString("N"));
    private GatewayNode _node = null!;
    private HttpClient _http = null!;
    private Uri _address = null!;

    public Task InitializeAsync()
    {
        _node = new GatewayNode(new Dictionary<string, string> { ["Alerts:OutboxDirectory"] = _outbox });
        _address = _node.StartOnKestrel();
        _http = new HttpClient { BaseAddress = _address };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _node.DisposeAsync();
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }
    }

    [Fact]
    public async Task Trip_AppearsInReviewQueueWithin2s_ResumeWithNote_ActiveAgainAndNoteInAuditTrail()
    {
        var dashboard = await DashboardPage.OpenAsync(browser, _address);
        await Expect(dashboard.QueueItems).ToHaveCountAsync(0);
        var session = "dashboard-test-" + Guid.NewGuid().ToString("N");

        await TripAsync(session);

        var item = dashboard.QueueItem(session);
        await Expect(item).ToBeVisibleAsync(new() { Timeout = 2_000 });
        await Expect(item.Locator("[data-testid=queue-reason]")).ToHaveTextAsync("loop_limit");
        await Expect(item.Locator("[data-testid=queue-facts]")).ToContainTextAsync("loops 5 / 5");
        await Expect(dashboard.QueueCount).ToHaveTextAsync("1");
        await Expect(dashboard.SessionRow(session)).ToHaveAttributeAsync("data-status", "tripped");
        await Expect(dashboard.SessionRow(session).Locator("[data-testid=sparkline]")).ToBeVisibleAsync();
        await Expect(dashboard.Alerts.Locator("[data-testid=alert-text]")).ToContainTextAsync([$"Session ID [{session}] terminated due to loop limit"]);

        const string note = "looked at the tool calls; the agent may go on";
        await item.Locator("[data-testid=note-input]").FillAsync(note);
        await item.Locator("[data-testid=resume]").ClickAsync();

        await Expect(dashboard.QueueItem(session)).ToHaveCountAsync(0);
        await Expect(dashboard.QueueCount).ToHaveTextAsync("0");
        await Expect(dashboard.SessionRow(session)).ToHaveAttributeAsync("data-status", "active");
        var view = (await _http.GetFromJsonAsync<JsonObject>($"/admin/sessions/{session}"))!;
        ((string?)view["status"]).ShouldBe("active");
        view["audit"]!.AsArray().Select(e => (string?)e!["note"]).ShouldContain(note);
        await dashboard.CloseAsync();
    }

    [Fact]
    public async Task End_WithoutNote_AsksForOneThenEndsWithIt()
    {
        var dashboard = await DashboardPage.OpenAsync(browser, _address);
        var session = "dashboard-test-" + Guid.NewGuid().ToString("N");
        await TripAsync(session);
        var item = dashboard.QueueItem(session);
        await Expect(item).ToBeVisibleAsync();

        await item.Locator("[data-testid=end]").ClickAsync();
        await Expect(item.Locator("[data-testid=action-status]")).ToHaveTextAsync("write a note first");

        await item.Locator("[data-testid=note-input]").FillAsync("runaway agent, stopped for good");
        await item.Locator("[data-testid=end]").ClickAsync();

        await Expect(dashboard.QueueItem(session)).ToHaveCountAsync(0);
        await Expect(dashboard.SessionRow(session)).ToHaveAttributeAsync("data-status", "ended");
        var view = (await _http.GetFromJsonAsync<JsonObject>($"/admin/sessions/{session}"))!;
        ((string?)view["status"]).ShouldBe("ended");
        view["audit"]!.AsArray().Select(e => (string?)e!["note"]).ShouldContain("runaway agent, stopped for good");
        await dashboard.CloseAsync();
    }

    [Fact]
    public async Task Breaker_IsolatedThroughTheAdminApi_StateAndColourChangeWithoutReload()
    {
        var dashboard = await DashboardPage.OpenAsync(browser, _address);
        var haiku = dashboard.Breaker("haiku");
        await Expect(haiku).ToHaveAttributeAsync("data-state", "closed");
        await Expect(haiku.Locator("[data-testid=breaker-state]")).ToHaveCSSAsync("color", "rgb(46, 125, 50)");

        using (var isolated = await _http.PostAsync("/admin/breakers/haiku/isolate", null))
        {
            isolated.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await Expect(haiku).ToHaveAttributeAsync("data-state", "isolated");
        await Expect(haiku.Locator("[data-testid=breaker-state]")).ToHaveTextAsync("isolated");
        await Expect(haiku.Locator("[data-testid=breaker-state]")).ToHaveCSSAsync("color", "rgb(106, 27, 154)");

        using (var closed = await _http.PostAsync("/admin/breakers/haiku/close", null))
        {
            closed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await Expect(haiku).ToHaveAttributeAsync("data-state", "closed");
        await dashboard.CloseAsync();
    }

    [Fact]
    public async Task AdminKeyConfigured_NoKeyShowsUnauthorized_KeyEnteredConnects()
    {
        const string key = "dashboard-browser-admin-key-0123456789";
        await using var node = new GatewayNode(new Dictionary<string, string>
        {
            ["Gateway:AdminApiKey"] = key,
            ["Alerts:OutboxDirectory"] = _outbox,
        });
        var address = node.StartOnKestrel();
        var dashboard = new DashboardPage(await browser.NewPageAsync(address));
        await dashboard.Page.GotoAsync("/dashboard");

        await Expect(dashboard.Connection).ToHaveAttributeAsync("data-state", "unauthorized");

        await dashboard.Page.Locator("#admin-key").FillAsync(key);
        await dashboard.Page.Locator("#key-apply").ClickAsync();

        await Expect(dashboard.Connection).ToHaveAttributeAsync("data-state", "open");
        await Expect(dashboard.Breaker("haiku")).ToHaveAttributeAsync("data-state", "closed");
        await dashboard.CloseAsync();
    }

    [Theory]
    [InlineData("/dashboard", "text/html", "<title>Agent Gateway")]
    [InlineData("/dashboard.js", "text/javascript", "'use strict';")]
    [InlineData("/dashboard.css", "text/css", ".queue-item")]
    public async Task Get_DashboardFile_ServedWithContentTypeAndNoCache(string path, string mediaType, string excerpt)
    {
        using var response = await _http.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe(mediaType);
        response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("script-src 'self'");
        (await response.Content.ReadAsStringAsync()).ShouldContain(excerpt);
    }

    /// <summary>
    /// Trips a session through the simulated model over HTTP: a tool-call continuation (<c>[[sim:loop]]</c>) sent six
    /// times; five are answered with tool calls, the sixth is refused by the loop limit.
    /// </summary>
    private async Task TripAsync(string session)
    {
        var body = new JsonObject
        {
            ["model"] = "haiku",
            ["messages"] = new JsonArray
            {
                new JsonObject { ["role"] = "user", ["content"] = "Fix the build [[sim:loop]]" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray
                    {
                        new JsonObject
                        {
                            ["id"] = "call_1",
                            ["type"] = "function",
                            ["function"] = new JsonObject { ["name"] = "lookup", ["arguments"] = """{"query":"build"}""" },
                        },
                    },
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "still failing" },
            },
            ["tools"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "function",
                    ["function"] = new JsonObject
                    {
                        ["name"] = "lookup",
                        ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
                    },
                },
            },
        }.ToJsonString();

        for (var call = 1; call <= 6; call++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Session-Id", session);
            using var response = await _http.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            if (call == 6)
            {
                response.Headers.GetValues("X-Gateway-Trip").Single().ShouldBe("loop_limit");
            }
        }
    }
}
