using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Storage;
using BenchmarkDotNet.Attributes;
using StackExchange.Redis;

namespace AgentGateway.Benchmarks;

/// <summary>
/// The per-request governance check, three ways, measured in one run:
/// <list type="bullet">
/// <item>in process: <see cref="SessionGovernor.TryAdmit"/> on a warm governor (the check-and-count itself);</item>
/// <item>in process: <see cref="ISessionGrain.AdmitAsync"/>, the full grain call a request pays (a local Orleans call,
/// one turn, one versioned write to the <see cref="InMemorySessionStore"/>);</item>
/// <item>the seeds' design: the loop counter in Redis, read then incremented by the gateway (two round trips),
/// and, for fairness, the same check as one Lua script (one round trip).</item>
/// </list>
/// Every operation is the first model call of a new task (a new user message), as in the load test, so the
/// loop limit never trips; the token budget is raised for the same reason (see docs/benchmarks.md).
/// </summary>
[MemoryDiagnoser]
public class GovernanceCheckBenchmarks
{
    /// <summary>Environment variable that names the loopback port of the redis-server to measure against.</summary>
    public const string RedisPortVariable = "AGW_BENCH_REDIS_PORT";

    /// <summary>Estimated input tokens of one request: a short system prompt and a one-line user message.</summary>
    private const int EstimatedInputTokens = 40;

    private const int Sessions = 1000;

    /// <summary>The check-then-increment of a naive gateway, as one script: one round trip.</summary>
    private const string CheckAndIncrementScript = """
        local loops = tonumber(redis.call('GET', @key) or '0')
        if loops >= tonumber(@maxLoops) then
          return -1
        end
        loops = redis.call('INCR', @key)
        redis.call('EXPIRE', @key, @ttl)
        return loops
        """;

    private static readonly TimeProvider Time = TimeProvider.System;
    private static readonly TimeSpan LoopKeyTtl = TimeSpan.FromMinutes(10);

    private readonly GovernanceOptions _governance = new()
    {
        // Defaults (5 loops per task, 16 recent tasks, a 60 s window in 10 buckets) except the budget, raised so a
        // benchmark that admits millions of calls per minute never trips on velocity.
        TokenBudget = long.MaxValue / 2,
    };

    private readonly string[] _sessionIds = Enumerable.Range(0, Sessions).Select(i => $"bench-session-{i:D4}").ToArray();

    private SessionGovernor _governor = null!;
    private BenchSilo _silo = null!;
    private ConnectionMultiplexer _redis = null!;
    private IDatabase _db = null!;
    private LoadedLuaScript _script = null!;
    private ulong _task;
    private int _next;
    private long _redisTask;

    [GlobalSetup]
    public void Setup()
    {
        _governor = new SessionGovernor("bench-governor", _governance);
        _silo = BenchSilo.StartAsync(new InMemorySessionStore(), _governance).GetAwaiter().GetResult();

        // Warm every session grain (activation and first stored write happen outside the measurement).
        foreach (var id in _sessionIds)
        {
            _silo.Grains.GetGrain<ISessionGrain>(id).AdmitAsync(NextTurn()).GetAwaiter().GetResult();
        }

        _redis = RedisProbe.Connect(RedisProbe.PortFromEnvironment());
        _db = _redis.GetDatabase();
        _script = LuaScript.Prepare(CheckAndIncrementScript).Load(_redis.GetServer(_redis.GetEndPoints()[0]));
        for (var i = 0; i < 1000; i++)
        {
            RedisGetThenIncrementAsync().GetAwaiter().GetResult();
            RedisLuaCheckAndIncrementAsync().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _redis.CloseAsync(allowCommandsToComplete: false).GetAwaiter().GetResult();
    }

    /// <summary>The governance decision alone: loop count and token window checked, then the call counted.</summary>
    [Benchmark(Description = "in-process: SessionGovernor.TryAdmit")]
    public Admission GovernorTryAdmit() => _governor.TryAdmit(NextTurn(), Time.GetUtcNow());

    /// <summary>The decision plus the settlement of the call's real usage, both on the governor.</summary>
    [Benchmark(Description = "in-process: TryAdmit + Settle")]
    public Admission GovernorTryAdmitAndSettle()
    {
        var admission = _governor.TryAdmit(NextTurn(), Time.GetUtcNow());
        _governor.Settle(new CallSettlement(admission.ReservedInputTokens, EstimatedInputTokens, 7), Time.GetUtcNow());
        return admission;
    }

    /// <summary>What a request pays: a local call to the session grain, one turn, one versioned write; one hot session.</summary>
    [Benchmark(Description = "grain: AdmitAsync, 1 session")]
    public Task<Admission> GrainAdmitOneSession() => _silo.Grains.GetGrain<ISessionGrain>(_sessionIds[0]).AdmitAsync(NextTurn());

    /// <summary>The same, spread over 1000 warm sessions (as the load test does).</summary>
    [Benchmark(Description = "grain: AdmitAsync, 1000 sessions")]
    public Task<Admission> GrainAdmitManySessions() => _silo.Grains.GetGrain<ISessionGrain>(NextSession()).AdmitAsync(NextTurn());

    /// <summary>
    /// A governed call's two turns: the admission (asked) and the settlement (told, one-way, as the handler does),
    /// on one session so the next operation queues behind the settlement and pays for it.
    /// </summary>
    [Benchmark(Description = "grain: AdmitAsync + SettleAsync, 1 session")]
    public async Task<Admission> GrainAdmitAndSettle()
    {
        var session = _silo.Grains.GetGrain<ISessionGrain>(_sessionIds[1]);
        var admission = await session.AdmitAsync(NextTurn()).ConfigureAwait(false);
        _ = session.SettleAsync(new CallSettlement(admission.ReservedInputTokens, EstimatedInputTokens, 7));
        return admission;
    }

    /// <summary>The seeds' design: GET the task's loop counter, compare, then INCR and EXPIRE (pipelined): two round trips.</summary>
    [Benchmark(Baseline = true, Description = "redis: GET, compare, INCR+EXPIRE (2 RTT)")]
    public Task<long> RedisGetThenIncrement() => RedisGetThenIncrementAsync();

    /// <summary>The same check and count as one Lua script (EVALSHA): one round trip, and atomic.</summary>
    [Benchmark(Description = "redis: Lua check-and-INCR (1 RTT)")]
    public Task<long> RedisLuaCheckAndIncrement() => RedisLuaCheckAndIncrementAsync();

    private async Task<long> RedisGetThenIncrementAsync()
    {
        var key = NextRedisKey();
        var loops = (long?)await _db.StringGetAsync(key).ConfigureAwait(false) ?? 0;
        if (loops >= _governance.MaxLoops)
        {
            return -1;
        }

        var increment = _db.StringIncrementAsync(key);
        var expire = _db.KeyExpireAsync(key, LoopKeyTtl);
        await expire.ConfigureAwait(false);
        return await increment.ConfigureAwait(false);
    }

    private async Task<long> RedisLuaCheckAndIncrementAsync()
    {
        var result = await _script.EvaluateAsync(
            _db,
            new { key = NextRedisKey(), maxLoops = _governance.MaxLoops, ttl = (long)LoopKeyTtl.TotalSeconds }).ConfigureAwait(false);
        return (long)result;
    }

    /// <summary>A new task's loop-counter key on a session of the pool (a new user message every call).</summary>
    private RedisKey NextRedisKey()
    {
        var task = ++_redisTask;
        return $"agw:loops:{_sessionIds[(int)(task % Sessions)]}:{task}";
    }

    private TurnInfo NextTurn() => new(TurnKind.UserMessage, ++_task, EstimatedInputTokens);

    private string NextSession()
    {
        var next = _next + 1;
        _next = next == Sessions ? 0 : next;
        return _sessionIds[_next];
    }
}
