using System.Collections.Concurrent;
using AgentGateway.LoadGen.Metrics;

namespace AgentGateway.LoadGen.Mix;

/// <summary>What every agent task of a <c>mix</c> run adds to, from any thread.</summary>
internal sealed class MixStats
{
    private readonly ConcurrentQueue<TaskRecord> _records = new();
    private long _started;
    private long _finished;
    private long _calls;
    private long _retries;

    public MixStats()
    {
        foreach (var transport in Enum.GetValues<Transport>())
        {
            PerTransport[transport] = new TransportStats();
        }
    }

    public Dictionary<Transport, TransportStats> PerTransport { get; } = [];

    /// <summary>Errors by kind, prefixed by transport: <c>rest:http-502</c>, <c>sse:connection-reset</c>, <c>ws:close-1011</c>.</summary>
    public Tally Errors { get; } = new();

    /// <summary>Trips seen by clients (<c>X-Gateway-Trip</c>, an SSE cut-off's note, a WebSocket <c>fallback</c> reason).</summary>
    public Tally Trips { get; } = new();

    /// <summary>Which route answered each call (<c>X-Gateway-Route</c>, a WebSocket <c>done</c>'s route; fallbacks are <c>deterministic</c>).</summary>
    public Tally Routes { get; } = new();

    /// <summary>How tasks ended: <c>normal:ok</c>, <c>runaway:tripped</c>, <c>runaway:not-tripped</c>, <c>failed:…</c>.</summary>
    public Tally Outcomes { get; } = new();

    public long Started => Volatile.Read(ref _started);

    public long Finished => Volatile.Read(ref _finished);

    public long InFlight => Started - Finished;

    /// <summary>HTTP requests (REST, SSE) and WebSocket client turns (user_message, tool_result) sent, retries included.</summary>
    public long Calls => Volatile.Read(ref _calls);

    public long Retries => Volatile.Read(ref _retries);

    public IReadOnlyCollection<TaskRecord> Records => _records;

    public void TaskStarted(Transport transport)
    {
        Interlocked.Increment(ref _started);
        PerTransport[transport].TaskStarted();
    }

    public void TaskFinished(TaskRecord record, TimeSpan elapsed)
    {
        _records.Enqueue(record);
        Outcomes.Add(record.Kind + ":" + record.Outcome);
        if (record.Trip is { } trip)
        {
            Trips.Add(trip);
        }

        var perTransport = PerTransport[record.Transport];
        perTransport.TaskLatency.Record(elapsed);
        perTransport.TaskFinished(record.Outcome.StartsWith("failed", StringComparison.Ordinal));
        Interlocked.Increment(ref _finished);
    }

    public void Call() => Interlocked.Increment(ref _calls);

    public void Retry() => Interlocked.Increment(ref _retries);
}

/// <summary>One transport's figures.</summary>
internal sealed class TransportStats
{
    private long _started;
    private long _finished;
    private long _failed;

    /// <summary>One call: an HTTP request to its last byte (a whole SSE stream), or a WebSocket turn to its <c>done</c> or <c>fallback</c>.</summary>
    public LatencyHistogram CallLatency { get; } = new();

    /// <summary>One task from its start to its end, retries included.</summary>
    public LatencyHistogram TaskLatency { get; } = new();

    public long Started => Volatile.Read(ref _started);

    public long Finished => Volatile.Read(ref _finished);

    public long Failed => Volatile.Read(ref _failed);

    public void TaskStarted() => Interlocked.Increment(ref _started);

    public void TaskFinished(bool failed)
    {
        Interlocked.Increment(ref _finished);
        if (failed)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}

/// <summary>
/// One agent task as the client saw it. <see cref="ModelAnswers"/> counts the answers that came from a model
/// (not the gateway's deterministic fallback) during the task: for a runaway agent, the model calls the gateway
/// let through before it tripped, which must never exceed the loop limit.
/// </summary>
internal sealed record TaskRecord(
    string SessionId,
    Transport Transport,
    string Kind,
    string Outcome,
    int ModelAnswers,
    string? Trip,
    int Retries,
    double Seconds);
