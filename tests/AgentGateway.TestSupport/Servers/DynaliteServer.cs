namespace AgentGateway.TestSupport.Servers;

/// <summary>
/// dynalite (the DynamoDB API, in memory) on a free loopback port, from the repository's
/// <c>tools/servers/node_modules</c> (installed by <c>./test.sh</c>: <c>npm ci</c> from the committed lockfile).
/// Tests share one per collection and keep apart with a table prefix of their own (<see cref="NewTablePrefix"/>).
/// </summary>
public sealed class DynaliteServer : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private DynaliteServer(ServerProcess process) => _process = process;

    /// <summary>The endpoint, for <c>DynamoDb:ServiceUrl</c> or an SDK client's <c>ServiceURL</c>.</summary>
    public string ServiceUrl => $"http://127.0.0.1:{_process.Port}";

    public int Port => _process.Port;

    /// <summary>What dynalite wrote so far (for failure messages).</summary>
    public string Output => _process.Output;

    /// <summary>
    /// Starts dynalite. Tables stay in <c>CREATING</c> for <paramref name="createTableMs"/> (dynalite's default is
    /// 500 ms; a little keeps the wait for <c>ACTIVE</c> exercised without slowing every test class).
    /// </summary>
    public static async Task<DynaliteServer> StartAsync(int createTableMs = 50)
    {
        var root = ServerProcess.RepositoryRoot();
        var node = ServerProcess.FindExecutable("apt-get install nodejs", "/usr/bin/node", "/usr/local/bin/node");
        var script = ServerProcess.FindExecutable(
            "npm ci in tools/servers",
            Path.Combine(root, "tools", "servers", "node_modules", "dynalite", "cli.js"));
        var port = ServerProcess.FreePort();
        var createMs = createTableMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = await ServerProcess.StartAsync(
            "dynalite",
            node,
            [script, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--createTableMs", createMs, "--deleteTableMs", "0", "--updateTableMs", "0"],
            port,
            workingDirectory: root).ConfigureAwait(false);
        return new DynaliteServer(process);
    }

    /// <summary>A table prefix no other test uses: <c>t{12 hex digits}-</c>.</summary>
    public static string NewTablePrefix() => "t" + Guid.NewGuid().ToString("N")[..12] + "-";

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
