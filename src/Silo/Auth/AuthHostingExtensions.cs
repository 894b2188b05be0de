using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Problems;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Auth;

/// <summary>Registration of API-key authentication.</summary>
public static class AuthHostingExtensions
{
    /// <summary>The keys (section <c>Gateway</c>, validated at start) and the key ring.</summary>
    public static WebApplicationBuilder AddGatewayAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuthOptions>(builder.Configuration, AuthOptions.SectionName);
        builder.Services.AddSingleton(static sp => new ApiKeyRing(sp.GetRequiredService<IOptions<AuthOptions>>().Value));
        return builder;
    }

    /// <summary>Authenticates <c>/admin</c> and <c>/v1</c> requests (see <see cref="GatewayAuthMiddleware"/>).</summary>
    public static WebApplication UseGatewayAuth(this WebApplication app)
    {
        app.UseMiddleware<GatewayAuthMiddleware>();
        return app;
    }

    /// <summary>An endpoint filter for admin groups: only callers the middleware established as operators (fail closed).</summary>
    public static ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.GetCaller() is { IsAdmin: true }
            ? next(context)
            : ValueTask.FromResult<object?>(GatewayProblem.AdminForbidden.ToResult("The caller is not an operator."));
}
