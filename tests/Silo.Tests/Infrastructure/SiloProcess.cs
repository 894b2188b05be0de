using System.Diagnostics;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>The built node (AgentGateway.Silo.dll beside the tests) as a real process, for what only a process shows: its exit code and stderr.</summary>
public static class SiloProcess
{
    /// <summary>
    /// Runs the node with <paramref name="settings"/> as environment variables (<c>:</c> as <c>__</c>) until it exits,
    /// 60 s at most; returns its exit code and its non-empty stderr lines (leading spaces kept).
    /// </summary>
    public static async Task<(int ExitCode, string[] Stderr)> RunUntilExitAsync(IReadOnlyDictionary<string, string> settings)
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
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(start)!;
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
}
