using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>
/// The built node (AgentGateway.Silo.dll beside the tests) as a real process, for what only a process shows: its exit
/// code and stderr, and what a crash (SIGKILL) leaves behind.
/// </summary>
public static partial class SiloProcess
{
    /// <summary>
    /// Runs the node with <paramref name="settings"/> as environment variables (<c>:</c> as <c>__</c>) until it exits,
    /// 60 s at most; returns its exit code and its non-empty stderr lines (leading spaces kept).
    /// </summary>
    public static async Task<(int ExitCode, string[] Stderr)> RunUntilExitAsync(IReadOnlyDictionary<string, string> settings)
    {
        using var process = Process.Start(StartInfo(settings))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            await stdout;
            return (process.ExitCode, [.. (await stderr).Split('\n').Select(static l => l.TrimEnd()).Where(static l => l.Length > 0)]);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// Starts the node with <paramref name="settings"/> on 127.0.0.1 and a free port, and returns once it listens: its
    /// address is the one its "Now listening on" log line names (60 s at most; a node that exits first fails the start).
    /// </summary>
    public static async Task<RunningSilo> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var process = new Process { StartInfo = StartInfo(settings), EnableRaisingEvents = true };
        var node = new RunningSilo(process);
        try
        {
            await node.StartAsync();
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AgentGateway.Silo.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["Alerts__OutboxDirectory"] = Path.Combine(Path.GetTempPath(), "gateway-test-outbox-" + Guid.NewGuid().ToString("N"));

        // The address is read from the host's start-up line: logged whatever appsettings.json says.
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return start;
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://\S+)")]
    private static partial Regex ListeningLine();

    /// <summary>A node process started by <see cref="StartAsync"/>; disposing it kills it if it still runs.</summary>
    public sealed class RunningSilo : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _output = new();

        internal RunningSilo(Process process) => _process = process;

        /// <summary>Where the node's web front end listens, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
        public Uri BaseAddress { get; private set; } = null!;

        /// <summary>The node's process id.</summary>
        public int Id => _process.Id;

        /// <summary>Everything the node wrote so far, stdout and stderr interleaved as read (for a failing test's message).</summary>
        public IReadOnlyList<string> Output => [.. _output];

        internal async Task StartAsync()
        {
            _process.OutputDataReceived += (_, e) => OnLine(e.Data);
            _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            _process.Exited += (_, _) => _listening.TrySetException(
                new InvalidOperationException($"The node exited before it listened:\n{string.Join('\n', _output)}"));
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            BaseAddress = await _listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        /// <summary>SIGKILL, as a crash or an OOM kill ends a node: nothing of it runs after this returns.</summary>
        public async Task KillAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync();
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await KillAsync();
            }
            catch (InvalidOperationException)
            {
                // Never started: nothing to end.
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _output.Enqueue(line);
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                var url = match.Groups["url"].Value;
                _listening.TrySetResult(new Uri(url.EndsWith('/') ? url : url + "/"));
            }
        }
    }
}
