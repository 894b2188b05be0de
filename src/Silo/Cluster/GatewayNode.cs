using System.Globalization;

namespace AgentGateway.Silo.Cluster;

/// <summary>This node's name: its silo's name, and the node named in the alerts it raises.</summary>
public sealed record GatewayNode(string Id)
{
    /// <summary>The default name: <c>{host name}:{process id}</c>.</summary>
    public static string ThisProcess { get; } = $"{Environment.MachineName}:{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
}
