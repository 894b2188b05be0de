using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Silo.Auth;

/// <summary>
/// API keys (configuration section <c>Gateway</c>): the admin key for <c>/admin</c> and one key per tenant for
/// <c>/v1</c>. With no admin key, admin endpoints answer loopback callers only; with no tenant, <c>/v1</c> answers
/// loopback callers only, as the one implicit tenant <see cref="LocalTenant"/>.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string SectionName = "Gateway";

    /// <summary>Shortest key accepted (a key is a secret, not a password: generate it, e.g. <c>openssl rand -hex 32</c>).</summary>
    public const int MinKeyLength = 24;

    public const int MaxKeyLength = 256;

    public const int MaxTenantNameLength = 64;

    /// <summary>The implicit tenant of loopback callers when no tenant is configured; no configured tenant may be named so.</summary>
    public const string LocalTenant = "local";

    /// <summary>The admin API key (<c>Gateway:AdminApiKey</c>, env <c>Gateway__AdminApiKey</c>), sent as <c>Authorization: Bearer</c>. Default none.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>Tenants by name (<c>Gateway:Tenants:{name}:ApiKey</c>). Default none.</summary>
    public Dictionary<string, TenantOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Rate limits of every tenant that sets none of its own, and of the implicit tenant <see cref="LocalTenant"/>
    /// (<c>Gateway:Limits:RequestsPerMinute</c>, <c>Gateway:Limits:TokensPerMinute</c>). Default none (unlimited).
    /// </summary>
    public RateLimitOptions Limits { get; set; } = new();

    /// <summary>True when an admin key is configured (an empty value counts as none).</summary>
    public bool HasAdminKey => !string.IsNullOrEmpty(AdminApiKey);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        if (HasAdminKey)
        {
            foreach (var error in KeyErrors($"{SectionName}:{nameof(AdminApiKey)}", AdminApiKey!))
            {
                yield return new ValidationResult(error, [nameof(AdminApiKey)]);
            }

            seen[AdminApiKey!] = $"{SectionName}:{nameof(AdminApiKey)}";
        }

        foreach (var error in (Limits ?? new()).Errors($"{SectionName}:{nameof(Limits)}"))
        {
            yield return new ValidationResult(error, [nameof(Limits)]);
        }

        foreach (var (name, tenant) in Tenants.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var path = $"{SectionName}:{nameof(Tenants)}:{name}";
            foreach (var error in (tenant ?? new()).Errors(path))
            {
                yield return new ValidationResult(error, [nameof(Tenants)]);
            }

            if (!IsValidTenantName(name))
            {
                yield return new ValidationResult(
                    $"{path}: a tenant name is 1 to {MaxTenantNameLength} characters of letters, digits and . _ -", [nameof(Tenants)]);
            }
            else if (string.Equals(name, LocalTenant, StringComparison.OrdinalIgnoreCase))
            {
                yield return new ValidationResult($"{path}: '{LocalTenant}' is reserved for the implicit tenant of loopback callers.", [nameof(Tenants)]);
            }

            if (string.IsNullOrEmpty(tenant?.ApiKey))
            {
                yield return new ValidationResult($"{path}:{nameof(TenantOptions.ApiKey)} is required.", [nameof(Tenants)]);
                continue;
            }

            foreach (var error in KeyErrors($"{path}:{nameof(TenantOptions.ApiKey)}", tenant.ApiKey))
            {
                yield return new ValidationResult(error, [nameof(Tenants)]);
            }

            // Never the key itself in a message: only which settings share it.
            if (seen.TryGetValue(tenant.ApiKey, out var other))
            {
                yield return new ValidationResult($"{other} and {path}:{nameof(TenantOptions.ApiKey)} must differ: every key must be unique.", [nameof(Tenants)]);
            }
            else
            {
                seen[tenant.ApiKey] = $"{path}:{nameof(TenantOptions.ApiKey)}";
            }
        }
    }

    public static bool IsValidTenantName(string name)
    {
        if (name.Length is 0 or > MaxTenantNameLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<string> KeyErrors(string path, string key)
    {
        if (key.Length is < MinKeyLength or > MaxKeyLength)
        {
            yield return $"{path} must be {MinKeyLength} to {MaxKeyLength} characters long (was {key.Length}).";
        }

        if (key.Any(c => c is < '!' or > '~'))
        {
            yield return $"{path} must be printable ASCII with no spaces.";
        }
    }
}

/// <summary>
/// A tenant's rate limits, shared by all nodes when Redis is configured (docs/cache-and-limits.md). Unset: the
/// default (<c>Gateway:Limits</c>); 0: unlimited.
/// </summary>
public class RateLimitOptions
{
    /// <summary>Model requests per minute (a token bucket refilling continuously). Unset: the default; 0: unlimited.</summary>
    public long? RequestsPerMinute { get; set; }

    /// <summary>
    /// Model tokens per minute: the estimated input tokens are charged at admission, the output tokens (and the
    /// correction to the real input) when the answer is known. Unset: the default; 0: unlimited.
    /// </summary>
    public long? TokensPerMinute { get; set; }

    internal IEnumerable<string> Errors(string path)
    {
        if (RequestsPerMinute is < 0 or > AgentGateway.Contracts.Limits.TenantLimits.MaxRequestsPerMinute)
        {
            yield return $"{path}:{nameof(RequestsPerMinute)} must be from 0 (unlimited) to {AgentGateway.Contracts.Limits.TenantLimits.MaxRequestsPerMinute:N0} (was {RequestsPerMinute}).";
        }

        if (TokensPerMinute is < 0 or > AgentGateway.Contracts.Limits.TenantLimits.MaxTokensPerMinute)
        {
            yield return $"{path}:{nameof(TokensPerMinute)} must be from 0 (unlimited) to {AgentGateway.Contracts.Limits.TenantLimits.MaxTokensPerMinute:N0} (was {TokensPerMinute}).";
        }
    }
}

/// <summary>One tenant (<c>Gateway:Tenants:{name}</c>): its key and, optionally, its own rate limits.</summary>
public sealed class TenantOptions : RateLimitOptions
{
    /// <summary>The tenant's API key for <c>/v1</c>, sent as <c>Authorization: Bearer</c>.</summary>
    public string? ApiKey { get; set; }
}
