using AgentGateway.Contracts.Caching;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Silo.Routing;

/// <summary>
/// The answer cache as requests use it: looked up before every model call (a hit is answered with
/// <c>X-Gateway-Route: cache</c> and no model call) and once more when no model could answer; only complete answers
/// are stored (<see cref="IsCacheable"/>). A failing cache is logged and treated as a miss: it never fails a request.
/// </summary>
public sealed partial class AnswerCache(IResponseCache cache, IOptions<CacheOptions> options, GatewayMetrics metrics, TimeProvider time, ILogger<AnswerCache> logger)
{
    private readonly bool _enabled = options.Value.Enabled;

    /// <summary>
    /// Whether an answer may be stored: a complete text answer (finish reason <c>stop</c>, some text, no tool call)
    /// from the requested model itself (its primary route or another region of it). Never a tool call, never an
    /// alternate model's answer or the deterministic fallback, never a cut-off or failed stream, never a cache hit.
    /// </summary>
    public static bool IsCacheable(string route, string? finishReason, bool hasToolCalls, string? text) =>
        !hasToolCalls
        && !string.IsNullOrEmpty(text)
        && string.Equals(finishReason, "stop", StringComparison.Ordinal)
        && (route == Routes.Primary || route.StartsWith("region:", StringComparison.Ordinal));

    /// <summary>The request's cache key (computed once per request, see <see cref="CacheKeys"/>); null when the cache is off.</summary>
    public string? KeyFor(string requestedModel, IEnumerable<ChatMessage> messages, IEnumerable<AITool>? tools) =>
        _enabled ? CacheKeys.For(requestedModel, messages, tools) : null;

    public async ValueTask StoreAsync(string? key, string answeredBy, string text, CancellationToken cancellationToken)
    {
        if (key is null)
        {
            return;
        }

        try
        {
            await cache.SetAsync(key, new CachedAnswer(answeredBy, text, "stop", time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            metrics.CacheStored();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCacheFailed("store", ex);
        }
    }

    public async ValueTask<CachedAnswer?> FindAsync(string? key, CancellationToken cancellationToken)
    {
        if (key is null)
        {
            return null;
        }

        CachedAnswer? found;
        try
        {
            found = await cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCacheFailed("read", ex);
            found = null;
        }

        metrics.CacheLookup(found is not null);
        return found;
    }

    [LoggerMessage(LogEvents.Cache + 0, LogLevel.Warning, "Answer cache {Operation} failed; treated as a miss")]
    private partial void LogCacheFailed(string operation, Exception exception);
}
