namespace AgentGateway.Contracts.Caching;

/// <summary>
/// Complete model answers by conversation hash, served before a model call and as the fallback chain's last route
/// before the deterministic text. In memory on one node; in Redis across nodes (AgentGateway.Redis). A cache failure
/// must never fail a request.
/// </summary>
public interface IResponseCache
{
    ValueTask<CachedAnswer?> GetAsync(string key, CancellationToken cancellationToken);

    ValueTask SetAsync(string key, CachedAnswer answer, CancellationToken cancellationToken);
}

/// <summary>A model's text answer (never a tool call) and who gave it.</summary>
public sealed record CachedAnswer(string Model, string Text, string FinishReason, DateTimeOffset StoredAt);
