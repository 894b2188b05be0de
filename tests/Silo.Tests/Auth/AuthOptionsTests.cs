using System.ComponentModel.DataAnnotations;
using AgentGateway.Silo.Auth;

namespace AgentGateway.Silo.Tests.Auth;

public sealed class AuthOptionsTests
{
    private const string Good = "0123456789abcdefghijklmnop";

    [Fact]
    public void Validate_NoKeys_NoErrors() => Errors(new AuthOptions()).ShouldBeEmpty();

    [Fact]
    public void Validate_GoodKeys_NoErrors() => Errors(new AuthOptions
    {
        AdminApiKey = "admin-" + Good,
        Tenants = Tenants(("acme", "acme-" + Good), ("globex", "globex-" + Good)),
    }).ShouldBeEmpty();

    [Fact]
    public void Validate_EveryProblem_EachListedWithoutTheKey()
    {
        var errors = Errors(new AuthOptions
        {
            AdminApiKey = "short",
            Tenants = Tenants(("acme", "same-" + Good), ("globex", "same-" + Good), ("local", "local-" + Good), ("bad name", "bad-" + Good), ("spaces", "has spaces " + Good), ("nokey", "")),
        });

        errors.ShouldBe(
        [
            "Gateway:AdminApiKey must be 24 to 256 characters long (was 5).",
            "Gateway:Tenants:acme:ApiKey and Gateway:Tenants:globex:ApiKey must differ: every key must be unique.",
            "Gateway:Tenants:bad name: a tenant name is 1 to 64 characters of letters, digits and . _ -",
            "Gateway:Tenants:local: 'local' is reserved for the implicit tenant of loopback callers.",
            "Gateway:Tenants:nokey:ApiKey is required.",
            "Gateway:Tenants:spaces:ApiKey must be printable ASCII with no spaces.",
        ], ignoreOrder: true);
        errors.ShouldNotContain(e => e.Contains(Good, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_TenantKeyEqualsAdminKey_Error()
        => Errors(new AuthOptions { AdminApiKey = Good, Tenants = Tenants(("acme", Good)) })
            .ShouldBe(["Gateway:AdminApiKey and Gateway:Tenants:acme:ApiKey must differ: every key must be unique."]);

    private static Dictionary<string, TenantOptions> Tenants(params (string Name, string Key)[] tenants) =>
        tenants.ToDictionary(t => t.Name, t => new TenantOptions { ApiKey = t.Key }, StringComparer.Ordinal);

    private static string[] Errors(AuthOptions options) =>
        [.. options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!)];
}
