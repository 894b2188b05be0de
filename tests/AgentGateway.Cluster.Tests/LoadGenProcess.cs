using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentGateway.Cluster.Tests;

/// <summary>
/// <c>agent-loadgen</c> run as a process of its own. Its progress lines (stderr, one a second) are watched:
/// <see cref="WhenTasksDone"/> completes when a line reports at least that many finished tasks.
/// </summary>
internal sealed partial class LoadGenProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(long Done, TaskCompletionSource Signal)> _waiters = [];
    private long _done;

    private LoadGenProcess(Process process) => _process = process;

    public int Pid => _process.Id;

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

    public static LoadGenProcess Start(string dll, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var run = new LoadGenProcess(process);
        process.OutputDataReceived += (_, e) => run.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => run.OnLine(e.Data);
        process.Exited += (_, _) => run.FailWaiters();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Completes when a progress line shows at least <paramref name="done"/> tasks done; fails if the run ends first.</summary>
    public Task WhenTasksDone(long done)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (Volatile.Read(ref _done) >= done)
            {
                return Task.CompletedTask;
            }

            if (_process.HasExited)
            {
                return Task.FromException(new InvalidOperationException($"agent-loadgen ended before {done} tasks were done:\n{Output}"));
            }

            _waiters.Add((done, signal));
        }

        return signal.Task;
    }

    /// <summary>Waits for the run to end; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (DoneCount().Match(line) is { Success: true } match)
        {
            var done = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            lock (_waiters)
            {
                Volatile.Write(ref _done, done);
                foreach (var waiter in _waiters.Where(w => done >= w.Done).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Signal.TrySetResult();
                }
            }
        }
    }

    private void FailWaiters()
    {
        lock (_waiters)
        {
            foreach (var waiter in _waiters)
            {
                waiter.Signal.TrySetException(new InvalidOperationException($"agent-loadgen ended before {waiter.Done} tasks were done:\n{Output}"));
            }

            _waiters.Clear();
        }
    }

    // The mix mode's progress line: "[    5s] started     40  done     38  in-flight ..."
    [GeneratedRegex(@"^\[\s*\d+s\] started\s+\d+\s+done\s+(\d+)")]
    private static partial Regex DoneCount();
}
