using AgentGateway.Providers.Models;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>The configured models, for validators of settings that name them.</summary>
internal static class ServedModels
{
    /// <summary>
    /// The served models by name; false when the models' own settings are invalid (their validator reports that,
    /// and checking names against them would only repeat it).
    /// </summary>
    public static bool TryRead(IOptions<ModelCatalogOptions> models, out Dictionary<string, ModelDefinition> served)
    {
        try
        {
            served = models.Value.Models;
            return true;
        }
        catch (OptionsValidationException)
        {
            served = [];
            return false;
        }
    }
}
