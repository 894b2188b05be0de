using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Redis;

/// <summary>
/// The node's one <see cref="ConnectionMultiplexer"/>, connected on first use or by the node's warm start, in the
/// background (<c>AbortOnConnectFail=false</c>: a Redis that is down at start is retried in the background instead of
/// failing the node) and closed with <see cref="ConnectionMultiplexer.CloseAsync"/> when the node stops (a plain
/// Dispose would send QUIT and block for the sync timeout).
/// </summary>
/// <remarks>
/// Every operation is bounded by <see cref="RedisOptions.OperationTimeout"/>, the client's own async timeout. The
/// client checks it on its heartbeat (every second by default), so the heartbeat runs at a quarter of the timeout
/// instead: a stalled Redis fails an operation between one and one and a quarter timeouts. While no connection is up,
/// operations fail at once (<see cref="BacklogPolicy.FailFast"/>) rather than queue for the timeout: a request that
/// would only wait to degrade degrades now. The timeout is a network timeout on the real clock, not business time, so
/// it does not follow the node's injected <see cref="TimeProvider"/> (a test's frozen clock would otherwise never let
/// it fire).
/// </remarks>
public sealed partial class RedisConnection : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan FastestHeartbeat = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan SlowestHeartbeat = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions _configuration;
    private readonly ILogger<RedisConnection> _logger;
    private readonly Lock _gate = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private bool _disposed;

    public RedisConnection(IOptions<RedisOptions> options, ILogger<RedisConnection> logger)
    {
        var value = options.Value;
        _configuration = Configure(value);
        _logger = logger;
        KeyPrefix = value.KeyPrefix;
        OperationTimeout = value.OperationTimeout;
    }

    public string KeyPrefix { get; }

    public TimeSpan OperationTimeout { get; }

    /// <summary>The client's configuration: the configuration string, then the gateway's timeouts and policies over it.</summary>
    internal static ConfigurationOptions Configure(RedisOptions options)
    {
        if (!options.Enabled)
        {
            throw new InvalidOperationException($"{RedisOptions.SectionName}:{nameof(RedisOptions.Configuration)} is not set.");
        }

        var timeout = (int)options.OperationTimeout.TotalMilliseconds;
        var configuration = ConfigurationOptions.Parse(options.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds;
        configuration.ConnectRetry = 1;
        configuration.AsyncTimeout = timeout;
        configuration.SyncTimeout = timeout;
        configuration.HeartbeatInterval = TimeSpan.FromTicks(Math.Clamp((options.OperationTimeout / 4).Ticks, FastestHeartbeat.Ticks, SlowestHeartbeat.Ticks));
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ClientName ??= "agent-gateway";
        return configuration;
    }

    /// <summary>
    /// The database, once the first connection attempt has ended. That attempt may take the whole connect timeout, so
    /// a caller waits for it at most the operation timeout (a TimeoutException past it).
    /// </summary>
    public async Task<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken)
    {
        var mux = await Connecting().WaitAsync(OperationTimeout, cancellationToken).ConfigureAwait(false);
        return mux.GetDatabase();
    }

    /// <summary>
    /// Starts connecting if nothing has yet and waits for the first attempt to end (at most the connect timeout),
    /// whatever the operation timeout; true when connected. For a warm start and for tests.
    /// </summary>
    public async Task<bool> WhenConnectedAsync(CancellationToken cancellationToken)
    {
        var mux = await Connecting().WaitAsync(cancellationToken).ConfigureAwait(false);
        return mux.IsConnected;
    }

    private Task<ConnectionMultiplexer> Connecting()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectAsync();
            }

            return _connecting;
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/>, which the client bounds by the operation timeout (a
    /// <see cref="RedisTimeoutException"/> past it). The client's operations take no token, so the caller's
    /// cancellation only stops the wait; the reply, if any, is dropped.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        var database = await GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        return await operation(database).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var mux = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
        if (!mux.IsConnected)
        {
            LogNotConnected(string.Join(", ", _configuration.EndPoints));
        }

        return mux;
    }

    public async ValueTask DisposeAsync()
    {
        var connecting = TakeForDispose();

        if (connecting is { IsCompletedSuccessfully: true })
        {
            var mux = connecting.Result;
            await mux.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        }
        else if (connecting is not null)
        {
            // Still connecting at stop: close it when (if) it finishes, without holding the stop up.
            _ = connecting.ContinueWith(
                static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Close(allowCommandsToComplete: false);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Marks the connection disposed and takes the connection (or the attempt) out, once.</summary>
    private Task<ConnectionMultiplexer>? TakeForDispose()
    {
        lock (_gate)
        {
            _disposed = true;
            var connecting = _connecting;
            _connecting = null;
            return connecting;
        }
    }

    /// <summary>A synchronous stop (a host disposed without DisposeAsync): closes without waiting for commands.</summary>
    public void Dispose()
    {
        var connecting = TakeForDispose();

        if (connecting is { IsCompletedSuccessfully: true })
        {
            connecting.Result.Close(allowCommandsToComplete: false);
        }
    }

    [LoggerMessage(LogEvents.Redis + 0, LogLevel.Warning, "Redis at {Endpoints} is not reachable yet; reconnecting in the background (cache misses, limits fail open)")]
    private partial void LogNotConnected(string endpoints);
}
