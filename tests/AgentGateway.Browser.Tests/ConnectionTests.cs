using AgentGateway.Browser.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace AgentGateway.Browser.Tests;

/// <summary>
/// The page's connection handling against nodes of their own whose settings make the node close sockets: the
/// close code is shown, and the page reconnects (by itself, or when asked after an idle close) into the same session.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConnectionTests(BrowserFixture browser)
{
    [Fact]
    public async Task IdleClose_4001_ShownAndReconnectNowRejoinsTheConversation()
    {
        await using var node = new GatewayNode(new Dictionary<string, string> { ["Chat:IdleTimeout"] = "00:00:02" });
        var address = node.StartOnKestrel();
        var chat = await ChatPage.OpenAsync(browser, node: address);
        await chat.SayAsync("hello");
        await Expect(chat.Done).ToHaveCountAsync(1);

        // No client message for two seconds: the node closes with 4001, and the page does not fight its idle timeout.
        await Expect(chat.Connection).ToHaveAttributeAsync("data-state", "closed");
        await Expect(chat.CloseInfo).ToContainTextAsync("last close: 4001 idle timeout");
        await Expect(chat.Send).ToBeDisabledAsync();
        await chat.Reconnect.ClickAsync();

        await chat.WaitConnectedAsync();
        await Expect(chat.Reconnect).ToBeHiddenAsync();
        await Expect(chat.UserMessages).ToHaveTextAsync(["hello"]);
        await Expect(chat.AssistantMessages.Locator("[data-testid=message-text]")).ToHaveTextAsync([ChatPage.DefaultAnswer]);
        await chat.CloseAsync();
    }

    [Fact]
    public async Task TooManySockets_4029_TabReconnectsByItselfOnceASocketIsFree()
    {
        await using var node = new GatewayNode(new Dictionary<string, string> { ["Chat:MaxSocketsPerSession"] = "1" });
        var address = node.StartOnKestrel();
        var first = await ChatPage.OpenAsync(browser, node: address);
        var id = await first.SessionIdAsync();
        var second = new ChatPage(await browser.NewPageAsync(address));
        await second.Page.GotoAsync("/#session=" + id);

        await Expect(second.CloseInfo).ToContainTextAsync("4029 too many sockets on this session");
        await Expect(second.Reconnect).ToBeVisibleAsync();
        await first.CloseAsync();

        // The backoff retries on its own; the freed place lets it in.
        await second.WaitConnectedAsync();
        await Expect(second.SessionId).ToHaveTextAsync(id);
        await second.SayAsync("hello");
        await Expect(second.Done).ToHaveCountAsync(1);
        await second.CloseAsync();
    }

    [Fact]
    public async Task TenantKeysConfigured_KeyEnteredInThePage_ConnectsAndChatsAsTheTenant()
    {
        const string key = "acme-browser-key-0123456789abcdef";
        await using var node = new GatewayNode(new Dictionary<string, string> { ["Gateway:Tenants:acme:ApiKey"] = key });
        var address = node.StartOnKestrel();
        var chat = new ChatPage(await browser.NewPageAsync(address));
        await chat.Page.GotoAsync("/");

        // Without the key the node refuses the upgrade, so the page cannot connect.
        await Expect(chat.Connection).Not.ToHaveAttributeAsync("data-state", "open");
        await chat.Page.Locator("#api-key").FillAsync(key);
        await chat.Page.Locator("#api-key").PressAsync("Tab");

        await chat.WaitConnectedAsync();
        await chat.SayAsync("hello");
        await Expect(chat.AssistantMessages.Locator("[data-testid=message-text]")).ToHaveTextAsync([ChatPage.DefaultAnswer]);
        await Expect(chat.Model.Locator("option[value=sonnet]")).ToHaveCountAsync(1);
        await chat.CloseAsync();
    }
}
