using AgentGateway.Contracts.Caching;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Routing;

/// <summary>
/// The fallback chain's cache route: stores models' text answers (never tool calls) by conversation and finds
/// one when no model can answer. A failing cache is logged and treated as a miss: it never fails a request.
/// </summary>
public sealed partial class AnswerCache(IResponseCache cache, IOptions<CacheOptions> options, TimeProvider time, ILogger<AnswerCache> logger)
{
    private readonly bool _enabled = options.Value.Enabled;

    public async ValueTask StoreAsync(string requestedModel, IEnumerable<ChatMessage> messages, string answeredBy, string text, CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return;
        }

        try
        {
            await cache.SetAsync(CacheKeys.For(requestedModel, messages), new CachedAnswer(answeredBy, text, "stop", time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCacheFailed("store", ex);
        }
    }

    public async ValueTask<CachedAnswer?> FindAsync(string requestedModel, IEnumerable<ChatMessage> messages, CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return null;
        }

        try
        {
            return await cache.GetAsync(CacheKeys.For(requestedModel, messages), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCacheFailed("read", ex);
            return null;
        }
    }

    [LoggerMessage(400, LogLevel.Warning, "Answer cache {Operation} failed; treated as a miss")]
    private partial void LogCacheFailed(string operation, Exception exception);
}
