using AgentGateway.Providers.Models;
using AgentGateway.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Conversations;

/// <summary><c>Chat:DefaultModel</c> must be a served model: a typo stops the start, not the first chat.</summary>
public sealed class ChatModelValidator(IOptions<ModelCatalogOptions> models) : IValidateOptions<ChatSocketOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DefaultModel))
        {
            return ValidateOptionsResult.Success;
        }

        if (!ServedModels.TryRead(models, out var served))
        {
            return ValidateOptionsResult.Skip;
        }

        return served.ContainsKey(options.DefaultModel)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{ChatSocketOptions.SectionName}:DefaultModel '{options.DefaultModel}' is not a served model.");
    }
}
