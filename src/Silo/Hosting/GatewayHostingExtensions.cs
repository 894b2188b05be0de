using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Pipeline;
using AgentGateway.Silo.Problems;
using AgentGateway.Silo.Routing;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>How a gateway node is put together; <c>Program.cs</c> reads as its table of contents.</summary>
public static class GatewayHostingExtensions
{
    /// <summary>Where the embedded default listens when no address is configured: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Options (validated at start, every error listed), time, problem details, health checks, metrics, logging.</summary>
    public static WebApplicationBuilder AddGatewayDefaults(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingletonTimeProvider();
        services.AddValidatedOptions<GatewayOptions>(builder.Configuration, GatewayOptions.SectionName);
        services.AddValidatedOptions<GovernanceOptions>(builder.Configuration, GovernanceOptions.SectionName);
        services.AddOptions<ModelCatalogOptions>()
            .Configure<IConfiguration>(static (options, configuration) =>
            {
                var section = configuration.GetSection(ModelCatalogOptions.SectionName);
                section.Bind(options.Models);
                if (!section.Exists())
                {
                    foreach (var name in ModelCatalogOptions.DefaultModels)
                    {
                        options.Models[name] = new ModelDefinition();
                    }
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelCatalogOptions>>(new CompleteOptionsValidator<ModelCatalogOptions>(ModelCatalogOptions.SectionName));

        // One line per entry, UTC timestamps; the JSON formatter (Logging:Console:FormatterName=json) gets
        // its own timestamp format because both formatters would otherwise share one options section.
        services.Configure<SimpleConsoleFormatterOptions>(static o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        services.Configure<JsonConsoleFormatterOptions>(static o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        services.AddProblemDetails();
        services.AddHealthChecks()
            .AddCheck("self", static () => HealthCheckResult.Healthy(), tags: ["live"]);
        services.AddGatewayMetrics();
        builder.WebHost.ConfigureKestrel(static kestrel => kestrel.AddServerHeader = false);
        if (!HasConfiguredAddresses(builder.Configuration))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        return builder;
    }

    /// <summary>The logical models and their providers (simulated by default).</summary>
    public static WebApplicationBuilder AddModelProviders(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(static sp => ModelCatalog.Create(
            sp.GetRequiredService<IOptions<ModelCatalogOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddValidatedOptions<RoutingOptions>(builder.Configuration, RoutingOptions.SectionName);
        builder.Services.AddSingleton<IValidateOptions<RoutingOptions>, RoutingModelsValidator>();
        builder.Services.AddSingleton<ModelRouter>();
        builder.Services.AddSingleton<GovernedCalls>();
        builder.Services.AddSingleton<ChatCompletionsHandler>();
        return builder;
    }

    /// <summary>Errors as problem details (including unknown routes and unhandled exceptions), health and metrics endpoints.</summary>
    public static WebApplication UseGatewayDefaults(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = static ex => ex switch
            {
                BadHttpRequestException bad => bad.StatusCode,

                // A grain's silo died or cannot be reached (cluster mode, until membership moves its grains): retry.
                Orleans.Runtime.OrleansMessageRejectionException or TimeoutException => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            },

            // Without a handler the framework writes its generic problem (an RFC link as the type, no OpenAI
            // error object); the gateway's own, with its stable type, is what clients are promised.
            ExceptionHandler = WriteStatusProblemAsync,
        });
        app.UseStatusCodePages(static context => WriteStatusProblemAsync(context.HttpContext));
        app.MapGatewayMetrics();
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = static check => check.Tags.Contains("live") });
        return app;
    }

    /// <summary>The gateway problem for the response's status code, if it has one; the detail never carries an exception's text.</summary>
    private static async Task WriteStatusProblemAsync(HttpContext http)
    {
        if (GatewayProblem.ForStatus(http.Response.StatusCode) is { } problem)
        {
            if (problem.Status == StatusCodes.Status503ServiceUnavailable && !http.Response.HasStarted)
            {
                http.Response.Headers.RetryAfter = "1";
            }

            await problem.ToResult($"{http.Request.Method} {http.Request.Path} answered {http.Response.StatusCode}.")
                .ExecuteAsync(http).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the node. An invalid configuration is reported as a plain list of every error on stderr with
    /// exit code 2, before anything listens, instead of a host crash with stack traces.
    /// </summary>
    public static int RunGateway(this WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
        }
        catch (Exception ex) when (ex is OptionsValidationException or AggregateException)
        {
            var failures = (ex is AggregateException aggregate ? aggregate.InnerExceptions : [ex])
                .OfType<OptionsValidationException>()
                .SelectMany(e => e.Failures)
                .ToList();
            if (failures.Count == 0)
            {
                throw;
            }

            Console.Error.WriteLine($"The gateway did not start: {failures.Count} configuration error(s).");
            foreach (var failure in failures)
            {
                Console.Error.WriteLine($"  - {failure}");
            }

            return 2;
        }

        app.Run();
        return 0;
    }

    /// <summary>Whether the operator chose where to listen (--urls, ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints).</summary>
    private static bool HasConfiguredAddresses(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["urls"])
        || !string.IsNullOrEmpty(configuration["http_ports"])
        || !string.IsNullOrEmpty(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").Exists();

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(static d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }

    internal static void AddValidatedOptions<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new CompleteOptionsValidator<TOptions>(section));
    }
}
