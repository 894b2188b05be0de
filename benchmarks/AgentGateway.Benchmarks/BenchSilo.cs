using System.Net;
using System.Net.Sockets;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Grains.Diagnostics;
using AgentGateway.Grains.Hosting;
using AgentGateway.Providers.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Hosting;

namespace AgentGateway.Benchmarks;

/// <summary>
/// An Orleans silo in this process hosting the gateway's session grains over a given store, as the node hosts them:
/// what the in-process benchmarks call through <see cref="Grains"/>, with no web front end.
/// </summary>
public sealed class BenchSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private BenchSilo(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The silo's own count of its session activations.</summary>
    public GrainActivations Activations => _host.Services.GetRequiredService<GrainActivations>();

    public static async Task<BenchSilo> StartAsync(ISessionStore store, GovernanceOptions governance)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IBreakerStore>(new InMemoryBreakerStore());
        builder.Services.AddSingleton(Options.Create(governance));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: 0);
            silo.UseInMemoryReminderService();
            silo.AddGatewayGrains();
        });
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return new BenchSilo(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
