using System.Net;
using System.Net.Sockets;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Governance.Breakers;
using AgentGateway.Grains;
using AgentGateway.Grains.Breakers;
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
/// An Orleans silo in this process hosting the gateway's grains over a given store, as the node hosts them: what the
/// in-process benchmarks call through <see cref="Grains"/> (and, given served models, <see cref="Breakers"/>), with no
/// web front end. Silos started with <c>join</c> form one cluster over loopback TCP, as separate nodes would.
/// </summary>
public sealed class BenchSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private BenchSilo(IHost host, IPEndPoint endpoint)
    {
        _host = host;
        Endpoint = endpoint;
    }

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The silo's own count of its grain activations.</summary>
    /// <summary>The silo's session grain references (what the request pipeline uses).</summary>
    public GrainReferences<ISessionGrain> Sessions => _host.Services.GetRequiredService<GrainReferences<ISessionGrain>>();

    public GrainActivations Activations => _host.Services.GetRequiredService<GrainActivations>();

    /// <summary>The silo's breakers (only when started with served models).</summary>
    public ModelBreakers Breakers => _host.Services.GetRequiredService<ModelBreakers>();

    /// <summary>The silo's loopback endpoint, which another silo joins.</summary>
    public IPEndPoint Endpoint { get; }

    public static async Task<BenchSilo> StartAsync(
        ISessionStore store,
        GovernanceOptions governance,
        IReadOnlyList<string>? breakerModels = null,
        IBreakerStore? breakerStore = null,
        BenchSilo? join = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(breakerStore ?? new InMemoryBreakerStore());
        builder.Services.AddSingleton(Options.Create(governance));
        builder.Services.AddSingleton(Options.Create(new BreakerOptions()));
        builder.Services.AddSingleton(TimeProvider.System);
        if (breakerModels is not null)
        {
            builder.Services.AddModelBreakers(_ => breakerModels);
        }

        var endpoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: endpoint.Port, gatewayPort: 0, primarySiloEndpoint: join?.Endpoint);
            silo.UseInMemoryReminderService();
            silo.AddGatewayGrains();
        });
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return new BenchSilo(host, endpoint);
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
