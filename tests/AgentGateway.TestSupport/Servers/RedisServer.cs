namespace AgentGateway.TestSupport.Servers;

/// <summary>
/// A real redis-server of a test's own on 127.0.0.1 (a free port, no persistence), stopped by PID. Installed by
/// ./test.sh (<c>apt-get install redis-server</c>).
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private RedisServer(ServerProcess process) => _process = process;

    public int Port => _process.Port;

    public int Pid => _process.Pid;

    /// <summary>The StackExchange.Redis configuration string (<c>Redis:Configuration</c>) of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public bool HasExited => _process.HasExited;

    public static async Task<RedisServer> StartAsync()
    {
        var executable = ServerProcess.FindExecutable("apt-get install redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server");
        var port = ServerProcess.FreePort();
        var process = await ServerProcess.StartAsync(
            "redis-server",
            executable,
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            port).ConfigureAwait(false);
        return new RedisServer(process);
    }

    /// <summary>Kills the server (SIGKILL, by PID): Redis gone as in a crash.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing is answered, as in a hung Redis.</summary>
    public Task PauseAsync() => _process.PauseAsync();

    /// <summary>Lets a paused server run on (SIGCONT); it then answers what it was sent meanwhile.</summary>
    public Task ResumeAsync() => _process.ResumeAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    public override string ToString() => _process.ToString();
}
