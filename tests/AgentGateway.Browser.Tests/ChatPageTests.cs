using System.Text.RegularExpressions;
using AgentGateway.Browser.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AgentGateway.Browser.Tests;

/// <summary>
/// The chat page in headless Chromium against a real node: the page's WebSocket talks to the node's
/// <c>/v1/sessions/{id}/ws</c>, the simulated models answer. Assertions wait for what the user would see.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class ChatPageTests(BrowserFixture browser)
{
    [Fact]
    public async Task Open_NoHash_NewSessionIdShownWrittenToHashAndConnected()
    {
        var chat = await ChatPage.OpenAsync(browser);

        await Expect(chat.SessionId).ToHaveTextAsync(NewSessionIdPattern());
        var id = await chat.SessionIdAsync();
        new Uri(chat.Page.Url).Fragment.ShouldBe("#session=" + id);
        await Expect(chat.Connection).ToHaveTextAsync("connected");
        await Expect(chat.Phase).ToHaveTextAsync("idle");
        await Expect(chat.Model.Locator("option")).ToHaveTextAsync(["haiku", "sonnet"]);
        await Expect(chat.AutoTools).ToBeCheckedAsync();
        await Expect(chat.Banner).ToBeHiddenAsync();
        await Expect(chat.Transcript.Locator("li")).ToHaveCountAsync(0);
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Open_SessionInHash_JoinsThatSession()
    {
        var id = NewSessionId();

        var chat = await ChatPage.OpenAsync(browser, "/#session=" + id);

        await Expect(chat.SessionId).ToHaveTextAsync(id);
        new Uri(chat.Page.Url).Fragment.ShouldBe("#session=" + id);
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Open_InvalidSessionInHash_NewSessionIdReplacesIt()
    {
        var chat = await ChatPage.OpenAsync(browser, "/#session=not%20a%20valid%20id!");

        await Expect(chat.SessionId).ToHaveTextAsync(NewSessionIdPattern());
        new Uri(chat.Page.Url).Fragment.ShouldBe("#session=" + await chat.SessionIdAsync());
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Say_PlainQuestion_AnswerStreamsInThenDoneShown()
    {
        var chat = await ChatPage.OpenAsync(browser);

        await chat.SayAsync("hello");

        await Expect(chat.UserMessages).ToHaveTextAsync(["hello"]);
        await Expect(chat.Message).ToHaveValueAsync(string.Empty);
        await Expect(chat.AssistantMessages).ToHaveCountAsync(1);
        await Expect(chat.AssistantMessages.Locator("[data-testid=message-text]")).ToHaveTextAsync(ChatPage.DefaultAnswer);
        await Expect(chat.Done).ToHaveCountAsync(1);
        await Expect(chat.Done).ToHaveAttributeAsync("data-finish-reason", "stop");
        await Expect(chat.Done).ToContainTextAsync("haiku");
        await Expect(chat.Done).ToContainTextAsync("route primary");
        await Expect(chat.Done).ToContainTextAsync("loop 1");
        await Expect(chat.AssistantMessages).ToHaveAttributeAsync("data-streaming", "false");
        await Expect(chat.Phase).ToHaveTextAsync("idle");
        await Expect(chat.LoopCount).ToHaveTextAsync("1 / 5");
        await Expect(chat.Banner).ToBeHiddenAsync();
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Say_PacedStreamOnSonnet_TokensShownBeforeDone()
    {
        var chat = await ChatPage.OpenAsync(browser);
        await chat.Model.SelectOptionAsync("sonnet");

        // 40 tokens, 50 ms apart: about two seconds during which the answer must already be growing.
        await chat.SayAsync("Write a while [[sim:tokens=40]] [[sim:pace=50]]");

        var streaming = chat.Page.Locator("#transcript [data-role=assistant][data-streaming=true] [data-testid=message-text]");
        await Expect(streaming).ToHaveTextAsync(new Regex(@"^the agent gateway"));
        await Expect(chat.Done).ToHaveCountAsync(0);
        await Expect(chat.Phase).ToHaveTextAsync("streaming");

        await Expect(chat.Done).ToHaveCountAsync(1);
        await Expect(chat.Done).ToContainTextAsync("sonnet");
        await Expect(chat.Done).ToContainTextAsync("40 out tokens");
        var answer = (await chat.AssistantMessages.Locator("[data-testid=message-text]").TextContentAsync())!;
        answer.Split(' ').Length.ShouldBe(40);
        await Expect(chat.AssistantMessages).ToHaveAttributeAsync("data-streaming", "false");
        await Expect(chat.Phase).ToHaveTextAsync("idle");
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Say_LoopDirective_ToolCallsAnsweredAutomaticallyUntilLoopLimitBanner()
    {
        var chat = await ChatPage.OpenAsync(browser);

        await chat.SayAsync("Fix the build [[sim:loop]]");

        // Five model calls, each a tool call the page answered; the sixth is refused by governance.
        await Expect(chat.Banner).ToBeVisibleAsync();
        await Expect(chat.Banner).ToHaveAttributeAsync("role", "alert");
        await Expect(chat.Banner).ToContainTextAsync("The session was stopped");
        await Expect(chat.Banner).ToContainTextAsync("loop limit reached");
        await Expect(chat.Banner).ToContainTextAsync(ChatPage.FallbackText);
        await Expect(chat.ToolCalls).ToHaveCountAsync(5);
        for (var i = 0; i < 5; i++)
        {
            var call = chat.ToolCalls.Nth(i);
            await Expect(call).ToHaveAttributeAsync("data-answered", "auto");
            await Expect(call.Locator("[data-testid=tool-call-name]")).ToHaveTextAsync("lookup");
            await Expect(call.Locator("[data-testid=tool-call-status]")).ToContainTextAsync("""{"ok":true}""");
        }

        await Expect(chat.Done).ToHaveCountAsync(5);
        await Expect(chat.Fallbacks).ToHaveCountAsync(1);
        await Expect(chat.Fallbacks).ToHaveAttributeAsync("data-reason", "loop_limit");
        await Expect(chat.Status).ToHaveTextAsync("tripped (loop limit reached)");
        await Expect(chat.LoopCount).ToHaveTextAsync("5 / 5");
        await Expect(chat.Phase).ToHaveTextAsync("idle");
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Say_EveryModelFails_NoModelBannerUntilTheNextTaskIsAnswered()
    {
        // A node of its own: failing models must not move the shared node's breakers.
        await using var node = new GatewayNode(new Dictionary<string, string>
        {
            ["Breakers:ConsecutiveFailureThreshold"] = "100000",
            ["Breakers:MinimumThroughput"] = "100000",
        });
        var chat = await ChatPage.OpenAsync(browser, node: node.StartOnKestrel());

        await chat.SayAsync("Break everything [[sim:error=500]]");

        await Expect(chat.Banner).ToBeVisibleAsync();
        await Expect(chat.Banner).ToContainTextAsync("The answer was stopped");
        await Expect(chat.Banner).ToContainTextAsync("no model could answer");
        await Expect(chat.Banner).ToContainTextAsync(ChatPage.FallbackText);
        await Expect(chat.Fallbacks).ToHaveAttributeAsync("data-reason", "model_unavailable");
        await Expect(chat.Status).ToHaveTextAsync("active");

        await chat.SayAsync("hello");

        await Expect(chat.Banner).ToBeHiddenAsync();
        await Expect(chat.AssistantMessages.Locator("[data-testid=message-text]")).ToHaveTextAsync([ChatPage.DefaultAnswer]);
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Say_LoopDirectiveWithAutoAnswerOff_ToolCallWaitsForAnswerByHand()
    {
        var chat = await ChatPage.OpenAsync(browser);
        await chat.AutoTools.UncheckAsync();

        await chat.SayAsync("Find the order [[sim:loop]]");

        var first = chat.ToolCalls.Nth(0);
        await Expect(first.Locator("[data-testid=tool-result-input]")).ToHaveValueAsync("""{"ok":true}""");
        await Expect(chat.Done).ToHaveCountAsync(1);
        await Expect(chat.Phase).ToHaveTextAsync("awaiting tool result");
        await Expect(chat.ToolCalls).ToHaveCountAsync(1);
        await Expect(first).ToHaveAttributeAsync("data-answered", string.Empty);

        await first.Locator("[data-testid=tool-result-input]").FillAsync("order 42 is late");
        await first.Locator("[data-testid=tool-result-send]").ClickAsync();

        await Expect(first).ToHaveAttributeAsync("data-answered", "manual");
        await Expect(first.Locator("[data-testid=tool-call-status]")).ToHaveTextAsync("answered: order 42 is late");
        await Expect(chat.ToolCalls).ToHaveCountAsync(2);
        await Expect(chat.Done).ToHaveCountAsync(2);
        await Expect(chat.Done.Nth(1)).ToContainTextAsync("loop 2");
        await Expect(chat.ToolCalls.Nth(1).Locator("[data-testid=tool-result-send]")).ToBeVisibleAsync();
        await Expect(chat.Banner).ToBeHiddenAsync();
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Stop_DuringPacedStream_AnswerCutShortAndSessionIdle()
    {
        var chat = await ChatPage.OpenAsync(browser);
        await chat.SayAsync("Go on [[sim:tokens=200]] [[sim:pace=100]]");
        var streaming = chat.Page.Locator("#transcript [data-role=assistant][data-streaming=true] [data-testid=message-text]");
        await Expect(streaming).ToHaveTextAsync(new Regex(@"^the agent gateway"));

        await chat.Stop.ClickAsync();

        await Expect(chat.Done).ToHaveAttributeAsync("data-finish-reason", "cancelled");
        await Expect(chat.Fallbacks).ToHaveCountAsync(0);
        await Expect(chat.AssistantMessages).ToHaveAttributeAsync("data-streaming", "false");
        await Expect(chat.AssistantMessages).ToHaveAttributeAsync("data-cut-off", "true");
        await Expect(chat.Phase).ToHaveTextAsync("idle");
        await Expect(chat.Banner).ToBeHiddenAsync();
        var answer = (await chat.AssistantMessages.Locator("[data-testid=message-text]").TextContentAsync())!;
        answer.Split(' ').Length.ShouldBeLessThan(200);

        // The session is idle again: the next message is answered.
        await chat.SayAsync("hello");
        await Expect(chat.Page.Locator("#transcript [data-testid=done][data-finish-reason=stop]")).ToHaveCountAsync(1);
        await Expect(chat.AssistantMessages.Nth(1).Locator("[data-testid=message-text]")).ToHaveTextAsync(ChatPage.DefaultAnswer);
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Reload_SameHash_HistoryRenderedFromState()
    {
        var chat = await ChatPage.OpenAsync(browser);
        await chat.SayAsync("hello again");
        await Expect(chat.Done).ToHaveCountAsync(1);
        var id = await chat.SessionIdAsync();

        await chat.Page.ReloadAsync();
        await chat.WaitConnectedAsync();

        await Expect(chat.SessionId).ToHaveTextAsync(id);
        // The conversation comes back from the node's state message: no done lines, they are not history.
        await Expect(chat.UserMessages).ToHaveTextAsync(["hello again"]);
        await Expect(chat.AssistantMessages.Locator("[data-testid=message-text]")).ToHaveTextAsync([ChatPage.DefaultAnswer]);
        await Expect(chat.Done).ToHaveCountAsync(0);
        await Expect(chat.LoopCount).ToHaveTextAsync("1 / 5");
        await Expect(chat.Status).ToHaveTextAsync("active");
        await chat.CloseAsync();
    }

    [Fact]
    public async Task Reload_TrippedSession_BannerShownFromState()
    {
        var chat = await ChatPage.OpenAsync(browser);
        await chat.SayAsync("Fix the build [[sim:loop]]");
        await Expect(chat.Banner).ToContainTextAsync("loop limit reached");

        await chat.Page.ReloadAsync();
        await chat.WaitConnectedAsync();

        await Expect(chat.Banner).ToBeVisibleAsync();
        await Expect(chat.Banner).ToContainTextAsync("The session was stopped");
        await Expect(chat.Banner).ToContainTextAsync("loop limit reached");
        await Expect(chat.Status).ToHaveTextAsync("tripped (loop limit reached)");
        await Expect(chat.UserMessages).ToHaveTextAsync(["Fix the build [[sim:loop]]"]);
        await chat.CloseAsync();
    }

    [Fact]
    public async Task SecondTab_SameSession_SeesTheOtherTabsConversationLive()
    {
        var first = await ChatPage.OpenAsync(browser);
        var id = await first.SessionIdAsync();
        var second = await ChatPage.OpenAsync(browser, "/#session=" + id);

        await first.SayAsync("hello from the first tab");

        await Expect(second.UserMessages).ToHaveTextAsync(["hello from the first tab"]);
        await Expect(second.AssistantMessages.Locator("[data-testid=message-text]")).ToHaveTextAsync([ChatPage.DefaultAnswer]);
        await Expect(second.Done).ToHaveCountAsync(1);
        await Expect(first.Done).ToHaveCountAsync(1);
        await first.CloseAsync();
        await second.CloseAsync();
    }

    private static string NewSessionId() => "browser-test-" + Guid.NewGuid().ToString("N");

    [GeneratedRegex("^chat-[0-9a-f]{20}$")]
    private static partial Regex NewSessionIdPattern();
}
