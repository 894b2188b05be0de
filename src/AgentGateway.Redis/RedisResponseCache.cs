using System.Text.Json;
using System.Text.Json.Serialization;
using AgentGateway.Contracts.Caching;
using StackExchange.Redis;

namespace AgentGateway.Redis;

/// <summary>
/// The cluster's shared answer cache: one string key per conversation hash (<c>{prefix}{key}</c>) holding the
/// answer as JSON, written with <c>SET … PX ttl</c>. Every Redis error or timeout is a miss (or a skipped store):
/// it is counted and logged (rate-limited), never thrown.
/// </summary>
/// <remarks>
/// An entry also carries when it was stored, and a read older than the TTL on the node's clock is a miss too, so
/// expiry follows the injected <see cref="TimeProvider"/> as the in-process cache does; Redis's own expiry bounds memory.
/// </remarks>
public sealed class RedisResponseCache(RedisConnection redis, TimeSpan timeToLive, TimeProvider time, RedisFailures failures) : IResponseCache
{
    public async ValueTask<CachedAnswer?> GetAsync(string key, CancellationToken cancellationToken)
    {
        RedisValue value;
        try
        {
            value = await redis.RunAsync(db => db.StringGetAsync(redis.KeyPrefix + key), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex, cancellationToken))
        {
            failures.Record("cache_get", ex);
            return null;
        }

        if (value.IsNullOrEmpty)
        {
            return null;
        }

        StoredAnswer? stored;
        try
        {
            stored = JsonSerializer.Deserialize((byte[])value!, RedisJsonContext.Default.StoredAnswer);
        }
        catch (JsonException ex)
        {
            failures.Record("cache_get", ex);
            return null;
        }

        if (stored is null)
        {
            return null;
        }

        var storedAt = DateTimeOffset.FromUnixTimeMilliseconds(stored.StoredAtMs);
        return time.GetUtcNow() - storedAt < timeToLive
            ? new CachedAnswer(stored.Model, stored.Text, stored.FinishReason, storedAt)
            : null;
    }

    public async ValueTask SetAsync(string key, CachedAnswer answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var json = JsonSerializer.SerializeToUtf8Bytes(
            new StoredAnswer(answer.Model, answer.Text, answer.FinishReason, answer.StoredAt.ToUnixTimeMilliseconds()),
            RedisJsonContext.Default.StoredAnswer);
        try
        {
            await redis.RunAsync(db => db.StringSetAsync(redis.KeyPrefix + key, json, timeToLive), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex, cancellationToken))
        {
            failures.Record("cache_set", ex);
        }
    }

    /// <summary>Anything but the caller's own cancellation: connection errors, server errors, timeouts.</summary>
    internal static bool IsRedisFailure(Exception ex, CancellationToken cancellationToken) =>
        !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);
}

internal sealed record StoredAnswer(
    [property: JsonPropertyName("m")] string Model,
    [property: JsonPropertyName("t")] string Text,
    [property: JsonPropertyName("f")] string FinishReason,
    [property: JsonPropertyName("s")] long StoredAtMs);

[JsonSerializable(typeof(StoredAnswer))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
