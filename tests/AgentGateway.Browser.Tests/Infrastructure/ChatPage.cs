using Microsoft.Playwright;

namespace AgentGateway.Browser.Tests.Infrastructure;

/// <summary>The chat page as a test sees it: its elements by their stable ids and test ids, and what a user does.</summary>
public sealed class ChatPage(IPage page)
{
    public const string DefaultAnswer = "This is a simulated answer from haiku.";

    public const string FallbackText = "This task requires manual human-in-the-loop review.";

    public IPage Page { get; } = page;

    public ILocator SessionId => Page.Locator("#session-id");

    public ILocator Connection => Page.Locator("#connection-state");

    public ILocator CloseInfo => Page.Locator("#close-info");

    public ILocator Phase => Page.Locator("#phase");

    public ILocator Status => Page.Locator("#session-status");

    public ILocator LoopCount => Page.Locator("#loop-count");

    public ILocator Tokens => Page.Locator("#tokens");

    public ILocator Model => Page.Locator("#model");

    public ILocator AutoTools => Page.Locator("#auto-tools");

    public ILocator Message => Page.Locator("#message");

    public ILocator Send => Page.Locator("#send");

    public ILocator Stop => Page.Locator("#stop");

    public ILocator Reconnect => Page.Locator("#reconnect");

    public ILocator Banner => Page.Locator("#trip-banner");

    public ILocator Error => Page.Locator("#error");

    public ILocator Transcript => Page.Locator("#transcript");

    public ILocator UserMessages => Page.Locator("#transcript [data-role=user] [data-testid=message-text]");

    public ILocator AssistantMessages => Page.Locator("#transcript [data-role=assistant]");

    public ILocator ToolCalls => Page.Locator("#transcript [data-testid=tool-call]");

    public ILocator Done => Page.Locator("#transcript [data-testid=done]");

    public ILocator Fallbacks => Page.Locator("#transcript [data-testid=fallback]");

    /// <summary>Opens the page (at <paramref name="path"/>, e.g. <c>/#session=x</c>) and waits until its socket has its first state.</summary>
    public static async Task<ChatPage> OpenAsync(BrowserFixture browser, string path = "/", Uri? node = null)
    {
        var chat = new ChatPage(await browser.NewPageAsync(node));
        await chat.Page.GotoAsync(path);
        await chat.WaitConnectedAsync();
        return chat;
    }

    /// <summary>Connected, and the first <c>state</c> has been drawn (the phase comes only from it before any event).</summary>
    public async Task WaitConnectedAsync()
    {
        await Assertions.Expect(Connection).ToHaveAttributeAsync("data-state", "open");
        await Assertions.Expect(Phase).ToHaveAttributeAsync("data-phase", "idle");
    }

    /// <summary>Types into the message box and presses Enter, as a user does.</summary>
    public async Task SayAsync(string text)
    {
        await Message.FillAsync(text);
        await Message.PressAsync("Enter");
    }

    public async Task<string> SessionIdAsync() => (await SessionId.TextContentAsync())!;

    public Task CloseAsync() => Page.Context.CloseAsync();
}
