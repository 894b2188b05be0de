using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentGateway.TestSupport.Servers;

/// <summary>
/// A real server (redis-server, dynalite, nginx, a gateway node) started by a test on loopback: a free port, its
/// output kept for failure messages, ready when its port accepts connections, stopped by PID (the whole process tree).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(string name, Process process, int port)
    {
        Name = name;
        _process = process;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> and waits (up to <paramref name="readyTimeout"/>, default 30 s) until
    /// 127.0.0.1:<paramref name="port"/> accepts a connection. Fails with the process's output if it exits first.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        int port,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? readyTimeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(name, process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name}: '{fileName}' did not start.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilListeningAsync(readyTimeout ?? TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return server;
    }

    /// <summary>A TCP port that was free on 127.0.0.1 a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository's root (the folder holding Actors.sln), found upward from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Actors.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>The first of <paramref name="candidates"/> that exists, or a clear failure naming what installs it.</summary>
    public static string FindExecutable(string installedBy, params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"None of {string.Join(", ", candidates)} exists: {installedBy} installs it (./test.sh does).");
    }

    /// <summary>Kills the process (SIGKILL: a crash, not a clean stop) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the process where it stands (SIGSTOP): alive, its sockets open, answering nothing until
    /// <see cref="ResumeAsync"/> (a hung server, not a crashed one).
    /// </summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>Lets a paused process run on (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    public override string ToString() => $"{Name} (pid {(_process.HasExited ? "exited" : Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))}, port {Port})";

    private async Task SignalAsync(string signal)
    {
        var info = new ProcessStartInfo("kill") { UseShellExecute = false };
        info.ArgumentList.Add("-" + signal);
        info.ArgumentList.Add(Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var kill = Process.Start(info) ?? throw new InvalidOperationException($"{Name}: kill -{signal} did not start.");
        await kill.WaitForExitAsync().ConfigureAwait(false);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Name}: kill -{signal} {Pid} exited with code {kill.ExitCode}.");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            // Keep the tail only: a chatty server must not grow a test's memory without bound.
            if (_output.Length > 256 * 1024)
            {
                _output.Remove(0, 128 * 1024);
            }

            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before listening on {Port}:\n{Output}");
            }

            using (var client = new TcpClient())
            {
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                    return;
                }
                catch (SocketException)
                {
                }
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} did not listen on {Port} within {timeout.TotalSeconds} s:\n{Output}");
            }

            // Polling a port a child process is still opening: there is nothing to await instead.
            await Task.Delay(50).ConfigureAwait(false);
        }
    }
}
