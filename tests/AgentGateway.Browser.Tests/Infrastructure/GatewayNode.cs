using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Browser.Tests.Infrastructure;

/// <summary>
/// The real gateway node (its own <c>Program</c>, real time) on Kestrel at 127.0.0.1 on a free port, so a real
/// browser can load the page and open the WebSocket, with optional configuration overrides. Started the way
/// Silo.Tests start theirs.
/// </summary>
public sealed class GatewayNode(IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    /// <summary>This node's own alert outbox, removed with the node.</summary>
    private readonly string _outbox = Path.Combine(Path.GetTempPath(), "gateway-browser-outbox-" + Guid.NewGuid().ToString("N"));

    /// <summary>Starts the node and returns its base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri StartOnKestrel()
    {
        UseKestrel(static kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("The server exposes no addresses.");
        return new Uri(addresses.Addresses.Single());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // What ships, not the developer pages; the urls setting is overridden so nothing binds the fixed port.
        builder.UseEnvironment("Production");
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("Alerts:OutboxDirectory", _outbox);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(static logging => logging.SetMinimumLevel(LogLevel.Warning));
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
        base.Dispose(disposing);
        if (Directory.Exists(_outbox))
        {
            Directory.Delete(_outbox, recursive: true);
        }
    }
}
