using Microsoft.Playwright;

namespace AgentGateway.Browser.Tests.Infrastructure;

/// <summary>
/// One gateway node and one headless Chromium shared by the browser tests. The browser is Debian's
/// <c>chromium</c> (installed by <c>test.sh</c>); Playwright never downloads one. Each test opens its own browser
/// context, so pages do not share storage, and its own session (a fresh id in the URL hash).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Where Debian installs Chromium; <c>CHROMIUM_PATH</c> overrides it.</summary>
    public const string DefaultChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private GatewayNode? _node;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The fixture is not started.");

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : DefaultChromiumPath;
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException(
                $"Chromium is not installed at {chromium}: run ./test.sh (it installs Debian's chromium) or apt-get install chromium.");
        }

        // Real time on the browser side: auto-waiting assertions, generous for a cold browser on a busy machine.
        Assertions.SetDefaultExpectTimeout(15_000);

        _node = new GatewayNode();
        BaseAddress = _node.StartOnKestrel();
        _playwright = await Playwright.CreateAsync();
        // An explicit executable: Playwright neither looks for nor downloads a browser build of its own, so no
        // PLAYWRIGHT_BROWSERS_PATH and no "playwright install" are needed; its driver ships in the package output.
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>A new page in a context of its own, with relative URLs resolved against the shared node (or <paramref name="node"/>).</summary>
    public async Task<IPage> NewPageAsync(Uri? node = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = (node ?? BaseAddress).ToString() });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    /// <summary>One node and one browser; the tests run one after another.</summary>
    public const string Name = "Browser";
}
