namespace AgentGateway.Silo.Auth;

/// <summary>Who a request comes from, as <see cref="GatewayAuthMiddleware"/> established it (a request feature).</summary>
/// <param name="IsAdmin">An operator: the admin key, or a loopback caller when no admin key is configured.</param>
/// <param name="Tenant">The tenant of a <c>/v1</c> caller; null for operators.</param>
public sealed record GatewayCaller(bool IsAdmin, string? Tenant)
{
    public static readonly GatewayCaller Admin = new(true, null);

    /// <summary>A loopback caller when no tenant is configured.</summary>
    public static readonly GatewayCaller Local = new(false, AuthOptions.LocalTenant);

    public static GatewayCaller ForTenant(string tenant) => new(false, tenant);
}

public static class GatewayCallerExtensions
{
    /// <summary>The caller established for this request, or null when no authentication ran (fail closed on null).</summary>
    public static GatewayCaller? GetCaller(this HttpContext context) => context.Features.Get<GatewayCaller>();
}
