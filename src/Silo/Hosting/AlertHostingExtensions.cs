using AgentGateway.Alerts;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Grains.Breakers;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>How a node gets its alerts: session trips and breaker opens/closes, through a durable outbox, to the configured sinks.</summary>
public static class AlertHostingExtensions
{
    /// <summary>The named <see cref="HttpClient"/> the webhook and SNS sinks share.</summary>
    public const string HttpClientName = "alerts";

    /// <summary>
    /// <see cref="AlertOptions"/> (section <c>Alerts</c>) validated at start; the sinks of <c>Alerts:Sinks</c> for the
    /// alert grain; its composer (naming this node) and metrics; breaker transitions handed to it; and, once the silo is
    /// active, the outbox's recovery, which delivers what a previous run left pending. The outbox store itself is the
    /// state provider's (<see cref="StorageHostingExtensions.AddStateStores"/>).
    /// </summary>
    public static WebApplicationBuilder AddAlerts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<AlertOptions>(builder.Configuration, AlertOptions.SectionName);
        services.AddHttpClient(HttpClientName, static (sp, http) =>
        {
            // Each attempt has its own timeout (Alerts:PublishTimeout, on the node's clock); this is only a backstop.
            http.Timeout = sp.GetRequiredService<IOptions<AlertOptions>>().Value.PublishTimeout + TimeSpan.FromSeconds(5);
        })
            // The factory's request logging names the URL, and a Slack webhook's path is its secret.
            .RemoveAllLoggers()

            // The sinks are singletons holding their client for the node's life, so the factory never rotates the
            // handler: connections are recycled instead, or a node would keep the SNS or webhook address it resolved
            // at start for good.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton<IEnumerable<IAlertSink>>(static sp => [.. CreateSinks(sp, sp.GetRequiredService<IOptions<AlertOptions>>().Value)]);
        services.AddSingleton(static sp => new AlertComposer(sp.GetRequiredService<GatewayNode>().Id));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertObserver, AlertMetricsObserver>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBreakerTransitionSink, AlertBreakerTransitionSink>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, AlertOutboxRecovery>();
        return builder;
    }

    private static IEnumerable<IAlertSink> CreateSinks(IServiceProvider sp, AlertOptions options)
    {
        var http = sp.GetRequiredService<IHttpClientFactory>();
        foreach (var name in options.SinkNames())
        {
            yield return name switch
            {
                AlertSinkNames.Log => new LogAlertSink(sp.GetRequiredService<ILogger<LogAlertSink>>()),
                AlertSinkNames.Slack => new SlackWebhookSink(http.CreateClient(HttpClientName), new Uri(options.Slack.WebhookUrl!)),
                AlertSinkNames.Sns => new SnsAlertSink(http.CreateClient(HttpClientName), options.Sns, SnsAlertSink.DefaultCredentials(), sp.GetRequiredService<TimeProvider>()),
                _ => throw new InvalidOperationException($"Unknown alert sink '{name}' (validation lets none through)."),
            };
        }
    }

    /// <summary>Breaker transitions to the alert grain (one-way: the breaker's turn never waits).</summary>
    private sealed class AlertBreakerTransitionSink(IGrainFactory grains) : IBreakerTransitionSink
    {
        public void OnTransition(string model, BreakerTransition transition) =>
            _ = grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox).BreakerTransitionedAsync(model, transition);
    }

    /// <summary>The alert counters of <see cref="GatewayMetrics"/>.</summary>
    private sealed class AlertMetricsObserver(GatewayMetrics metrics) : IAlertObserver
    {
        public void Raised(string kind) => metrics.AlertRaised(kind);

        public void Suppressed(string kind, string why) => metrics.AlertSuppressed(kind, why);

        public void Delivered(string sink) => metrics.AlertDelivered(sink);

        public void Failed(string sink) => metrics.AlertFailed(sink);
    }

    /// <summary>
    /// Once the silo is active (its storage ready), activates the alert grain, which reads the outbox and resumes
    /// delivering what a previous run left pending, before the web server takes its first request.
    /// </summary>
    private sealed class AlertOutboxRecovery(IGrainFactory grains) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(
            nameof(AlertOutboxRecovery),
            ServiceLifecycleStage.Active,
            _ => grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox).RecoverAsync());
    }
}
