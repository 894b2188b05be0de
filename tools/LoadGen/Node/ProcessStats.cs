using System.Globalization;
using System.Runtime.InteropServices;

namespace AgentGateway.LoadGen.Node;

/// <summary>CPU time, RSS, threads and open descriptors of a process on this machine, from <c>/proc</c> (Linux).</summary>
internal static partial class ProcessStats
{
    private const int ScClockTicks = 2; // _SC_CLK_TCK

    private static readonly long ClockTicks = Math.Max(1, Sysconf(ScClockTicks));

    /// <summary>A reading, or null when the process is gone or /proc is not there.</summary>
    public static ProcessSample? Sample(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            var threads = int.Parse(fields[17], CultureInfo.InvariantCulture);
            long rssKb = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rssKb = long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    break;
                }
            }

            var fds = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();
            return new ProcessSample(Environment.TickCount64, TimeSpan.FromSeconds(ticks / (double)ClockTicks), rssKb * 1024, threads, fds);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Cores used between two readings (1.0 = one core busy all the time).</summary>
    public static double? CoresBetween(ProcessSample? first, ProcessSample? second)
    {
        if (first is null || second is null || second.AtMilliseconds <= first.AtMilliseconds)
        {
            return null;
        }

        return Math.Round((second.Cpu - first.Cpu).TotalMilliseconds / (second.AtMilliseconds - first.AtMilliseconds), 3);
    }

    /// <summary>CPU time of the whole machine so far (all cores: user, nice, system, irq, softirq, steal), or null.</summary>
    public static TimeSpan? MachineBusy()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds((Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8)) / (double)ClockTicks);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);
}

/// <summary>One reading of a process: when (ms since boot), CPU time so far, resident set, threads, open descriptors.</summary>
internal sealed record ProcessSample(long AtMilliseconds, TimeSpan Cpu, long RssBytes, int Threads, int OpenDescriptors);
