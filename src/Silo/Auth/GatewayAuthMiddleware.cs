using System.Net;
using AgentGateway.Silo.Problems;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Silo.Auth;

/// <summary>
/// Decides who may call <c>/admin</c> and <c>/v1</c>, by path, before any endpoint runs, so an endpoint mapped
/// later under either prefix is covered without opting in. The caller it establishes is a request feature
/// (<see cref="GatewayCaller"/>); other paths (the chat page, health, metrics) pass untouched.
/// </summary>
/// <remarks>
/// <para><c>/admin</c>: with <c>Gateway:AdminApiKey</c> set, only <c>Authorization: Bearer {admin key}</c>; without
/// it, loopback callers only. A tenant key is refused either way (403).</para>
/// <para><c>/v1</c>: with tenants configured, only a tenant key (header, or the WebSocket subprotocol); without
/// them, loopback callers only, as the implicit tenant <see cref="AuthOptions.LocalTenant"/> (any other bearer
/// value is ignored: OpenAI clients always send one). The admin key is refused either way (403).</para>
/// <para>Missing or unknown keys get 401 with <c>WWW-Authenticate: Bearer</c>. Keys are never logged.</para>
/// </remarks>
public sealed partial class GatewayAuthMiddleware(RequestDelegate next, ApiKeyRing keys, ILogger<GatewayAuthMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var (caller, refusal) = path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase) ? AuthenticateAdmin(context)
            : path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase) ? AuthenticateTenant(context)
            : (null, null);
        if (refusal is not null)
        {
            LogRefused(context.Request.Method, path.Value ?? string.Empty, refusal.Value.Problem.Code, RemoteOf(context)?.ToString() ?? "unknown");
            return RefuseAsync(context, refusal.Value);
        }

        if (caller is not null)
        {
            context.Features.Set(caller);
        }

        return next(context);
    }

    private (GatewayCaller?, Refusal?) AuthenticateAdmin(HttpContext context)
    {
        var token = Credentials.BearerToken(context.Request);
        var presented = token is null ? null : keys.Find(token);
        if (presented is { IsAdmin: false })
        {
            return (null, Forbidden(GatewayProblem.AdminForbidden, "Tenant API keys do not open admin endpoints; use the admin key (Gateway:AdminApiKey)."));
        }

        if (keys.HasAdminKey)
        {
            return presented is { IsAdmin: true } ? (GatewayCaller.Admin, null)
                : token is null ? (null, Unauthorized(GatewayProblem.Unauthorized, "Admin endpoints need 'Authorization: Bearer {admin API key}'.", invalid: false))
                : (null, Unauthorized(GatewayProblem.InvalidApiKey, "The bearer key is not a key of this gateway.", invalid: true));
        }

        return IsLoopback(context)
            ? (GatewayCaller.Admin, null)
            : (null, Forbidden(
                GatewayProblem.AdminForbidden,
                $"Admin endpoints answer loopback callers only until admin authentication is configured (caller: {RemoteOf(context)?.ToString() ?? "unknown"})."));
    }

    private (GatewayCaller?, Refusal?) AuthenticateTenant(HttpContext context)
    {
        var token = Credentials.BearerToken(context.Request) ?? Credentials.WebSocketProtocolToken(context.Request);
        var presented = token is null ? null : keys.Find(token);
        if (presented is { IsAdmin: true })
        {
            return (null, Forbidden(GatewayProblem.ApiForbidden, "The admin API key does not open /v1; use a tenant key."));
        }

        if (keys.HasTenants)
        {
            return presented is not null ? (presented, null)
                : token is null ? (null, Unauthorized(GatewayProblem.Unauthorized, "/v1 needs 'Authorization: Bearer {tenant API key}' (WebSocket: see docs/websocket.md).", invalid: false))
                : (null, Unauthorized(GatewayProblem.InvalidApiKey, "The bearer key is not a key of this gateway.", invalid: true));
        }

        return IsLoopback(context)
            ? (GatewayCaller.Local, null)
            : (null, Forbidden(
                GatewayProblem.ApiForbidden,
                $"/v1 answers loopback callers only until tenant API keys are configured (caller: {RemoteOf(context)?.ToString() ?? "unknown"})."));
    }

    private static Task RefuseAsync(HttpContext context, Refusal refusal)
    {
        if (refusal.Challenge is { } challenge)
        {
            context.Response.Headers.WWWAuthenticate = challenge;
        }

        return refusal.Problem.ToResult(refusal.Detail).ExecuteAsync(context);
    }

    private static Refusal Forbidden(GatewayProblem problem, string detail) => new(problem, detail, null);

    private static Refusal Unauthorized(GatewayProblem problem, string detail, bool invalid) =>
        new(problem, detail, invalid ? "Bearer realm=\"agent-gateway\", error=\"invalid_token\"" : "Bearer realm=\"agent-gateway\"");

    /// <summary>Whether the caller's address is loopback (IPv4-mapped addresses included); no address is not loopback.</summary>
    public static bool IsLoopback(HttpContext context) => RemoteOf(context) is { } remote && IPAddress.IsLoopback(remote);

    private static IPAddress? RemoteOf(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        return remote is { IsIPv4MappedToIPv6: true } ? remote.MapToIPv4() : remote;
    }

    [LoggerMessage(LogEvents.Auth + 0, LogLevel.Information, "Refused {Method} {Path}: {Problem} (caller {Remote})")]
    private partial void LogRefused(string method, string path, string problem, string remote);

    private readonly record struct Refusal(GatewayProblem Problem, string Detail, string? Challenge);
}
