using System.Collections.Frozen;
using Microsoft.Extensions.AI;

namespace AgentGateway.Providers.Models;

/// <summary>One logical model name clients may ask for, and the client that serves it.</summary>
public sealed record ModelEntry(string Name, string Provider, IChatClient Client);

/// <summary>The logical model names this node serves (e.g. <c>haiku</c>, <c>sonnet</c>) and their providers.</summary>
public sealed class ModelCatalog
{
    private readonly FrozenDictionary<string, ModelEntry> _models;

    public ModelCatalog(IEnumerable<ModelEntry> models)
        => _models = models.ToFrozenDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ModelEntry> Models => _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal);

    public bool TryGet(string name, out ModelEntry entry) => _models.TryGetValue(name, out entry!);

    /// <summary>Builds the catalog from options: every model maps to its configured provider.</summary>
    public static ModelCatalog Create(ModelCatalogOptions options, TimeProvider time) => new(
        options.Models.Select(pair => new ModelEntry(
            pair.Key,
            pair.Value.Provider,
            pair.Value.Provider.ToLowerInvariant() switch
            {
                ModelDefinition.SimulatedProvider => new SimulatedChatClient(pair.Key, time),
                _ => throw new InvalidOperationException($"Unknown provider '{pair.Value.Provider}' for model '{pair.Key}'."),
            })));
}
