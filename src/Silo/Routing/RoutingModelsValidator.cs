using AgentGateway.Providers.Models;
using AgentGateway.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Routing;

/// <summary>Every model a fallback chain names must be served: a typo stops the start instead of silently shortening the chain.</summary>
public sealed class RoutingModelsValidator(IOptions<ModelCatalogOptions> models) : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!ServedModels.TryRead(models, out var served))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        foreach (var (model, chain) in options.Fallbacks)
        {
            if (!served.ContainsKey(model))
            {
                failures.Add($"{RoutingOptions.SectionName}:Fallbacks:{model} names a model that is not served.");
            }

            for (var i = 0; i < chain.Length; i++)
            {
                if (!served.ContainsKey(chain[i]))
                {
                    failures.Add($"{RoutingOptions.SectionName}:Fallbacks:{model}:{i} '{chain[i]}' is not a served model.");
                }
                else if (string.Equals(chain[i], model, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"{RoutingOptions.SectionName}:Fallbacks:{model}:{i} names the model itself.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
