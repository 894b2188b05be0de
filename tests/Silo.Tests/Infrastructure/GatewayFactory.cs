using System.Net;
using AgentGateway.TestSupport;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// The real gateway (its own <c>Program</c>) with time frozen on a <see cref="FakeTimeProvider"/>, so token
/// windows and <c>created</c> stamps are exact, and optional configuration overrides. Runs on the in-memory
/// test server unless <see cref="StartOnKestrel"/> is called.
/// </summary>
public sealed class GatewayFactory(
    IReadOnlyDictionary<string, string>? settings = null,
    Action<IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    private readonly GatedLifetime _lifetime = new();

    /// <summary>This node's own alert outbox (unless the settings name one), removed with the node.</summary>
    private readonly string _outbox = Path.Combine(Path.GetTempPath(), "gateway-test-outbox-" + Guid.NewGuid().ToString("N"));

    public FakeTimeProvider Time { get; } = new();

    /// <summary>Starts the app on Kestrel at 127.0.0.1 on a free port and returns its base address.</summary>
    public Uri StartOnKestrel()
    {
        UseKestrel(static kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        return new Uri(ServerAddresses.Single(Services));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Production: what ships, not the developer pages; urls overridden so nothing binds appsettings' fixed port.
        builder.UseEnvironment("Production");
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("Alerts:OutboxDirectory", _outbox);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(static logging => logging.SetMinimumLevel(LogLevel.Error));
        builder.ConfigureTestServices(testServices =>
        {
            testServices.AddSingleton<TimeProvider>(Time);

            // The grains run on the fake clock; Orleans' own maintenance (membership, messaging, collection) on real time.
            testServices.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            testServices.AddSingleton<IHostLifetime>(_lifetime);
            services?.Invoke(testServices);
        });
    }

    /// <summary>
    /// The app starts its own host (<c>Program</c> calls <c>Run</c>) while the factory waits for that start. When
    /// the start fails at once (bad options) the app may dispose the host before the factory has looked at it,
    /// and the factory then throws <see cref="ObjectDisposedException"/> instead of the start's exception. So the
    /// app's start is held until the factory is waiting.
    /// </summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = builder.Build();
        var started = host.StartAsync();
        _lifetime.Open();
        started.GetAwaiter().GetResult();
        return host;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }
    }

    protected override void Dispose(bool disposing)
    {
        _lifetime.Open();
        base.Dispose(disposing);
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }
    }

    /// <summary>A host lifetime whose start waits for <see cref="Open"/>; it handles no signals.</summary>
    private sealed class GatedLifetime : IHostLifetime
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public Task WaitForStartAsync(CancellationToken cancellationToken) => _open.Task.WaitAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
