using Microsoft.Playwright;

namespace AgentGateway.Browser.Tests.Infrastructure;

/// <summary>The dashboard page as a test sees it: its elements by their stable ids and test ids.</summary>
public sealed class DashboardPage(IPage page)
{
    public IPage Page { get; } = page;

    public ILocator Connection => Page.Locator("#connection");

    public ILocator QueueItems => Page.Locator("#review-queue [data-testid=queue-item]");

    public ILocator QueueCount => Page.Locator("#queue-count");

    public ILocator SessionRows => Page.Locator("#sessions [data-testid=session-row]");

    public ILocator Breakers => Page.Locator("#breakers [data-testid=breaker]");

    public ILocator Alerts => Page.Locator("#alerts [data-testid=alert]");

    public ILocator QueueItem(string sessionId) => Page.Locator($"#review-queue [data-testid=queue-item][data-session-id=\"{sessionId}\"]");

    public ILocator SessionRow(string sessionId) => Page.Locator($"#sessions [data-testid=session-row][data-session-id=\"{sessionId}\"]");

    public ILocator Breaker(string model) => Page.Locator($"#breakers [data-testid=breaker][data-model=\"{model}\"]");

    /// <summary>Opens <c>/dashboard</c> on <paramref name="node"/> and waits until its feed is open.</summary>
    public static async Task<DashboardPage> OpenAsync(BrowserFixture browser, Uri node)
    {
        var dashboard = new DashboardPage(await browser.NewPageAsync(node));
        await dashboard.Page.GotoAsync("/dashboard");
        await Assertions.Expect(dashboard.Connection).ToHaveAttributeAsync("data-state", "open");
        return dashboard;
    }

    public Task CloseAsync() => Page.Context.CloseAsync();
}
