using System.Globalization;
using AgentGateway.TestSupport;
using AgentGateway.TestSupport.Servers;

namespace AgentGateway.Cluster.Tests;

/// <summary>
/// A gateway cluster as separate processes on loopback, each on a free port: dynalite (the DynamoDB API), redis-server,
/// N gateway nodes from the build output forming one Orleans cluster (<c>Cluster:Membership=Redis</c>,
/// <c>Storage:Provider=DynamoDb</c>, alerts to a Slack-style webhook that is a <see cref="LoopbackEndpoint"/>) and nginx with deploy/nginx/nginx.conf's hashing in front. Every process is
/// stopped by its PID on dispose; a node can be killed (SIGKILL) and started again with the same id, port and data.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<ServerProcess> _infrastructure = [];
    private readonly string _configuration;

    private LocalCluster(string root, string configuration, int[] nodePorts, LoopbackEndpoint webhook, int maxLoops)
    {
        Root = root;
        _configuration = configuration;
        NodePorts = nodePorts;
        Nodes = new ServerProcess?[nodePorts.Length];
        Webhook = webhook;
        MaxLoops = maxLoops;
    }

    public string Root { get; }

    public int[] NodePorts { get; }

    public ServerProcess?[] Nodes { get; }

    public LoopbackEndpoint Webhook { get; }

    public int MaxLoops { get; }

    /// <summary>A table prefix of this run's own: several runs can share a dynalite without seeing each other.</summary>
    public string TablePrefix { get; } = "t" + Guid.NewGuid().ToString("N")[..8] + "-";

    /// <summary>The Orleans cluster id of this run's silos.</summary>
    public string ClusterId { get; } = "c" + Guid.NewGuid().ToString("N")[..8];

    public ServerProcess Dynalite { get; private set; } = null!;

    public ServerProcess Redis { get; private set; } = null!;

    public ServerProcess Nginx { get; private set; } = null!;

    public Uri Gateway => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Nginx.Port}"));

    public string NginxDirectory => Path.Combine(Root, "nginx");

    public string AccessLog => Path.Combine(NginxDirectory, "access.log");

    public static string RepositoryRoot => ServerProcess.RepositoryRoot();

    /// <summary>Debug or Release: the configuration this test assembly was built in, whose node and load generator it runs.</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public string SiloDll => Path.Combine(RepositoryRoot, "src", "Silo", "bin", _configuration, "net10.0", "AgentGateway.Silo.dll");

    public string LoadGenDll => Path.Combine(RepositoryRoot, "tools", "LoadGen", "bin", _configuration, "net10.0", "agent-loadgen.dll");

    public Uri NodeUrl(int index) => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{NodePorts[index]}"));

    public static async Task<LocalCluster> StartAsync(int nodes, int maxLoops)
    {
        var root = Directory.CreateTempSubdirectory("agent-gateway-cluster-").FullName;
        var ports = Enumerable.Range(0, nodes).Select(_ => ServerProcess.FreePort()).ToArray();
        var webhook = await LoopbackEndpoint.StartAsync();
        var cluster = new LocalCluster(root, Configuration, ports, webhook, maxLoops);
        try
        {
            await cluster.StartInfrastructureAsync();
            await Task.WhenAll(Enumerable.Range(0, nodes).Select(cluster.StartNodeAsync));
            await cluster.StartNginxAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts node <paramref name="index"/> (again): the same node id, port, outbox folder and store.</summary>
    public async Task<ServerProcess> StartNodeAsync(int index)
    {
        if (!File.Exists(SiloDll))
        {
            throw new InvalidOperationException($"{SiloDll} is missing: build the solution first (dotnet build Actors.sln).");
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"node{index + 1}");
        var directory = Directory.CreateDirectory(Path.Combine(Root, name)).FullName;
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Storage__Provider"] = "DynamoDb",
            ["DynamoDb__ServiceUrl"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Dynalite.Port}"),
            ["DynamoDb__Region"] = "us-east-1",
            ["DynamoDb__TablePrefix"] = TablePrefix,
            ["DynamoDb__CreateTables"] = "true",
            ["Redis__Configuration"] = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Redis.Port}"),
            ["Cluster__NodeId"] = name,
            ["Cluster__Membership"] = "Redis",
            ["Cluster__ClusterId"] = ClusterId,
            ["Cluster__AdvertisedAddress"] = "127.0.0.1",
            ["Cluster__ProbeTimeout"] = "00:00:01",
            ["Cluster__MissedProbesLimit"] = "2",
            ["Governance__MaxLoops"] = MaxLoops.ToString(CultureInfo.InvariantCulture),
            ["Alerts__Sinks"] = "slack",
            ["Alerts__Slack__WebhookUrl"] = new Uri(Webhook.BaseAddress, "slack/hook").ToString(),
            ["Alerts__OutboxDirectory"] = Path.Combine(directory, "alerts"),
            ["Logging__LogLevel__Default"] = "Error",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        var node = await ServerProcess.StartAsync(
            name,
            "dotnet",
            [SiloDll, "--urls", NodeUrl(index).ToString().TrimEnd('/')],
            NodePorts[index],
            directory,
            environment,
            TimeSpan.FromSeconds(60));
        Nodes[index] = node;
        return node;
    }

    /// <summary>SIGKILL: the node crashes, nothing of it runs on.</summary>
    public async Task KillNodeAsync(int index)
    {
        if (Nodes[index] is { } node)
        {
            await node.KillAsync();
        }
    }

    /// <summary>The last lines of every process's output, for a failure message.</summary>
    public string Logs(int tailLines = 40)
    {
        var all = _infrastructure.Concat(Nodes.OfType<ServerProcess>());
        return string.Join("\n", all.Select(p => $"--- {p} ---\n" + string.Join("\n", p.Output.Split('\n').TakeLast(tailLines))));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes.OfType<ServerProcess>())
        {
            await node.DisposeAsync();
        }

        foreach (var server in _infrastructure)
        {
            await server.DisposeAsync();
        }

        await Webhook.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left in the temp folder.
        }
    }

    private async Task StartInfrastructureAsync()
    {
        var node = ServerProcess.FindExecutable("apt-get install nodejs", "/usr/bin/node", "/usr/local/bin/node");
        var dynalite = Path.Combine(RepositoryRoot, "tools", "servers", "node_modules", ".bin", "dynalite");
        if (!File.Exists(dynalite))
        {
            throw new InvalidOperationException($"{dynalite} is missing: (cd tools/servers && npm ci) installs it (./test.sh does).");
        }

        var dynalitePort = ServerProcess.FreePort();
        var redisPort = ServerProcess.FreePort();
        var redis = ServerProcess.FindExecutable("apt-get install redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server");
        var started = await Task.WhenAll(
            ServerProcess.StartAsync("dynalite", node, [dynalite, "--port", dynalitePort.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1"], dynalitePort, Root),
            ServerProcess.StartAsync("redis", redis, ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no"], redisPort, Root));
        (Dynalite, Redis) = (started[0], started[1]);
        _infrastructure.AddRange(started);
    }

    private async Task StartNginxAsync()
    {
        var nginx = ServerProcess.FindExecutable("apt-get install nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx");
        Directory.CreateDirectory(NginxDirectory);
        var port = ServerProcess.FreePort();
        var deploy = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, "deploy", "nginx", "nginx.conf"));
        var conf = Path.Combine(NginxDirectory, "nginx.conf");
        await File.WriteAllTextAsync(conf, NginxConfig.FromDeployFile(deploy, NodePorts, port, NginxDirectory));
        Nginx = await ServerProcess.StartAsync("nginx", nginx, ["-p", NginxDirectory, "-c", conf, "-e", "stderr", "-g", "daemon off;"], port, NginxDirectory);
        _infrastructure.Insert(0, Nginx);
    }
}
