namespace AgentGateway.Contracts.Limits;

/// <summary>
/// Per-tenant request (RPM) and token (TPM) limits, as two token buckets that refill continuously: a bucket holds at
/// most one minute's allowance and refills at that allowance per minute. In process on one node (the embedded
/// default); in Redis, shared by every node, otherwise.
/// </summary>
/// <remarks>
/// Semantics every implementation keeps (docs/cache-and-limits.md):
/// <list type="bullet">
/// <item>A request is admitted when the request bucket holds one request and the token bucket holds the tokens it
/// asks for (at most a full bucket, so a request larger than a minute's allowance can still pass once the bucket is
/// full); both buckets are checked and charged together, atomically, or neither is charged.</item>
/// <item>Tokens charged later (<see cref="ChargeAsync"/>: output tokens, or a correction) may take the token bucket
/// into debt; later requests then wait until it has refilled.</item>
/// <item>Time comes from the caller (<paramref name="now"/>): a bucket never refills backwards when a caller's clock
/// is behind the last one seen.</item>
/// </list>
/// A failing shared store must not fail requests: implementations fail open (admit) and say so in their docs.
/// </remarks>
public interface ITenantRateLimiter
{
    /// <summary>Admits one request of <paramref name="tokens"/> estimated tokens for <paramref name="tenant"/>, or says how long to wait.</summary>
    ValueTask<RateLimitDecision> TryAcquireAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Charges <paramref name="tokens"/> more to the tenant's token bucket (it may go into debt); a negative value gives
    /// tokens back (never above a full bucket). Never refuses.
    /// </summary>
    ValueTask ChargeAsync(string tenant, TenantLimits limits, long tokens, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>A tenant's limits; 0 means unlimited.</summary>
public readonly record struct TenantLimits(long RequestsPerMinute, long TokensPerMinute)
{
    public const long MaxRequestsPerMinute = 1_000_000;
    public const long MaxTokensPerMinute = 1_000_000_000;

    public static readonly TenantLimits Unlimited = default;

    public bool IsUnlimited => RequestsPerMinute <= 0 && TokensPerMinute <= 0;

    public bool LimitsTokens => TokensPerMinute > 0;
}

/// <summary>Which limit refused a request.</summary>
public enum RateLimitKind
{
    None = 0,
    Requests = 1,
    Tokens = 2,
}

/// <summary>Admitted, or refused with the wait until enough has refilled.</summary>
public readonly record struct RateLimitDecision(bool Allowed, RateLimitKind Limit, TimeSpan RetryAfter)
{
    public static readonly RateLimitDecision Admitted = new(true, RateLimitKind.None, TimeSpan.Zero);

    public static RateLimitDecision Refused(RateLimitKind limit, TimeSpan retryAfter) => new(false, limit, retryAfter);

    /// <summary>The wait in whole seconds, rounded up and at least 1 (the <c>Retry-After</c> value).</summary>
    public long RetryAfterSeconds => Math.Max(1, (RetryAfter.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond);

    /// <summary>The limit's wire name: <c>requests</c> or <c>tokens</c>.</summary>
    public string? LimitName => Limit switch
    {
        RateLimitKind.Requests => "requests",
        RateLimitKind.Tokens => "tokens",
        _ => null,
    };
}
