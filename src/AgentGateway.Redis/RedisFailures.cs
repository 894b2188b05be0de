using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Redis;

/// <summary>
/// What a failed Redis operation leaves behind: a count (metric <c>gateway.redis.errors</c>, by operation) and a
/// warning at most once per <see cref="LogInterval"/> per operation, so a Redis outage does not flood the log.
/// </summary>
public sealed partial class RedisFailures
{
    /// <summary>The gateway's meter name (the node's Prometheus endpoint collects it).</summary>
    public const string MeterName = "AgentGateway";

    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    private readonly Counter<long> _errors;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisFailures> _logger;
    private readonly Dictionary<string, (DateTimeOffset At, long Suppressed)> _logged = new(StringComparer.Ordinal);
    private long _count;

    public RedisFailures(IMeterFactory meters, TimeProvider time, ILogger<RedisFailures> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _errors = meters.Create(MeterName).CreateCounter<long>(
            "gateway.redis.errors", "{error}", "Redis operations that failed or timed out, by operation (cache_get, cache_set, limit_acquire, limit_charge); each degraded to a cache miss or an admitted request.");
        _time = time;
        _logger = logger;
    }

    /// <summary>Failures seen since the start (all operations).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The latest failure (a diagnostic).</summary>
    public Exception? LastError { get; private set; }

    public void Record(string operation, Exception exception)
    {
        LastError = exception;
        Interlocked.Increment(ref _count);
        _errors.Add(1, new KeyValuePair<string, object?>("operation", operation));
        var now = _time.GetUtcNow();
        long suppressed;
        lock (_logged)
        {
            if (_logged.TryGetValue(operation, out var last) && now - last.At < LogInterval)
            {
                _logged[operation] = (last.At, last.Suppressed + 1);
                return;
            }

            suppressed = _logged.TryGetValue(operation, out var previous) ? previous.Suppressed : 0;
            _logged[operation] = (now, 0);
        }

        LogFailed(operation, suppressed, exception);
    }

    [LoggerMessage(LogEvents.Redis + 1, LogLevel.Warning, "Redis {Operation} failed ({Suppressed} more such failures since the last warning); degraded (cache miss / limits fail open)")]
    private partial void LogFailed(string operation, long suppressed, Exception exception);
}
