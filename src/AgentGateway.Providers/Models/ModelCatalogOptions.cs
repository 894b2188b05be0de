using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace AgentGateway.Providers.Models;

/// <summary>How one logical model name is served (configuration <c>Models:{name}</c>).</summary>
public sealed class ModelDefinition
{
    public const string SimulatedProvider = "simulated";

    /// <summary>The provider serving it. Today only <c>simulated</c>; real providers come with their configuration.</summary>
    public string Provider { get; set; } = SimulatedProvider;

    /// <summary>
    /// The regions the model is served in, the first being its own; each further one is a replica
    /// (<c>model@region</c>, its own breaker) that the fallback chain tries after the alternate models. Default none.
    /// </summary>
    public string[] Regions { get; set; } = [];
}

/// <summary>The logical models (configuration section <c>Models</c>); <c>haiku</c> and <c>sonnet</c>, simulated, when none is configured.</summary>
public sealed partial class ModelCatalogOptions : IValidatableObject
{
    public const string SectionName = "Models";
    public static readonly string[] DefaultModels = ["haiku", "sonnet"];
    private static readonly string[] KnownProviders = [ModelDefinition.SimulatedProvider];

    public Dictionary<string, ModelDefinition> Models { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Models.Count == 0)
        {
            yield return new ValidationResult($"{SectionName}: at least one model must be configured.");
        }

        foreach (var (name, definition) in Models)
        {
            if (!ModelNamePattern().IsMatch(name))
            {
                yield return new ValidationResult($"{SectionName}:{name}: a model name may hold only letters, digits and . _ : - (at most 64).");
            }

            foreach (var region in definition.Regions)
            {
                if (!RegionPattern().IsMatch(region))
                {
                    yield return new ValidationResult($"{SectionName}:{name}:Regions: '{region}' is not a region name (lowercase letters, digits and -, at most 32).");
                }
            }

            if (definition.Regions.Distinct(StringComparer.Ordinal).Count() != definition.Regions.Length)
            {
                yield return new ValidationResult($"{SectionName}:{name}:Regions names a region twice.");
            }

            if (!KnownProviders.Contains(definition.Provider, StringComparer.OrdinalIgnoreCase))
            {
                yield return new ValidationResult(
                    $"{SectionName}:{name}:Provider '{definition.Provider}' is unknown; known providers: {string.Join(", ", KnownProviders)}.");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex ModelNamePattern();

    [GeneratedRegex("^[a-z0-9-]{1,32}$")]
    private static partial Regex RegionPattern();
}
