using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;

namespace AgentGateway.Redis;

/// <summary>
/// The shared Redis of a cluster (configuration section <c>Redis</c>): the response cache and the tenants' rate
/// limits. Empty <see cref="Configuration"/> (the default): no Redis; the node keeps both in process.
/// </summary>
public sealed class RedisOptions : IValidatableObject
{
    public const string SectionName = "Redis";
    public const string DefaultKeyPrefix = "agw:";
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c> or <c>redis:6379,password=…</c>. Empty: Redis is off.</summary>
    public string? Configuration { get; set; }

    /// <summary>Put in front of every key, so several gateways (or other programs) can share one Redis. Default <c>agw:</c>.</summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// How long a request waits for one Redis operation; past it the cache counts a miss and the limits admit (fail
    /// open). The client checks it every quarter of it, so a wait may run up to a quarter over. Default 250 ms.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = DefaultOperationTimeout;

    /// <summary>How long one connection attempt may take (reconnects go on in the background). Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    [MemberNotNullWhen(true, nameof(Configuration))]
    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled)
        {
            string? error = null;
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(Configuration);
            }
            catch (ArgumentException ex)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                yield return new ValidationResult($"{SectionName}:{nameof(Configuration)} is not a valid Redis configuration: {error}");
            }
        }

        if (KeyPrefix is null || KeyPrefix.Length > 64)
        {
            yield return new ValidationResult($"{SectionName}:{nameof(KeyPrefix)} must be at most 64 characters.");
        }

        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromSeconds(30))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(OperationTimeout)} must be positive and at most 30 s (was {OperationTimeout}).");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult($"{SectionName}:{nameof(ConnectTimeout)} must be positive and at most a minute (was {ConnectTimeout}).");
        }
    }
}
