using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Silo.Tests.Infrastructure;

internal static class ServerAddresses
{
    /// <summary>The one address the started server is bound to (the free port Kestrel picked).</summary>
    public static string Single(IServiceProvider services)
    {
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("The server exposes no addresses.");
        return addresses.Addresses.Single();
    }
}
