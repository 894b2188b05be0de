using System.Collections.Frozen;
using Microsoft.Extensions.AI;

namespace AgentGateway.Providers.Models;

/// <summary>
/// One logical model name clients may ask for and the client that serves it; or one of its replicas in another
/// region (<see cref="Region"/> set, <see cref="ModelEntry.Name"/> <c>model@region</c>), the fallback chain's
/// "same model in an alternate region".
/// </summary>
public sealed record ModelEntry(string Name, string Provider, IChatClient Client)
{
    /// <summary>The region of a replica; null for the model's own (first) region.</summary>
    public string? Region { get; init; }

    /// <summary>The name clients use: the model's for a replica too.</summary>
    public string LogicalName { get; init; } = Name;

    /// <summary>The same model in its other configured regions, in order.</summary>
    public IReadOnlyList<ModelEntry> Replicas { get; init; } = [];
}

/// <summary>The logical model names this node serves (e.g. <c>haiku</c>, <c>sonnet</c>) and their providers.</summary>
public sealed class ModelCatalog
{
    private readonly FrozenDictionary<string, ModelEntry> _models;

    public ModelCatalog(IEnumerable<ModelEntry> models)
        => _models = models.ToFrozenDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ModelEntry> Models => _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal);

    /// <summary>Every entry with a breaker of its own: the models and their region replicas.</summary>
    public IEnumerable<ModelEntry> AllEntries => Models.SelectMany(m => m.Replicas.Prepend(m));

    /// <summary>A model clients may ask for (replicas are not addressable by clients).</summary>
    public bool TryGet(string name, out ModelEntry entry) => _models.TryGetValue(name, out entry!);

    /// <summary>A model or a region replica (<c>model@region</c>), for operators.</summary>
    public bool TryGetAny(string name, out ModelEntry entry)
    {
        entry = AllEntries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return entry is not null;
    }

    /// <summary>Builds the catalog from options: every model (and each extra region of it) maps to its provider.</summary>
    public static ModelCatalog Create(ModelCatalogOptions options, TimeProvider time) => new(
        options.Models.Select(pair => new ModelEntry(pair.Key, pair.Value.Provider, NewClient(pair.Key, pair.Value.Provider, time))
        {
            Replicas = [.. pair.Value.Regions.Skip(1).Select(region => new ModelEntry($"{pair.Key}@{region}", pair.Value.Provider, NewClient($"{pair.Key}@{region}", pair.Value.Provider, time))
            {
                Region = region,
                LogicalName = pair.Key,
            })],
        }));

    private static IChatClient NewClient(string name, string provider, TimeProvider time) => provider.ToLowerInvariant() switch
    {
        ModelDefinition.SimulatedProvider => new SimulatedChatClient(name, time),
        _ => throw new InvalidOperationException($"Unknown provider '{provider}' for model '{name}'."),
    };
}
