using AgentGateway.Actors.Breakers;
using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance.Breakers;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Hosting;

/// <summary>How a node gets its alerts: session trips and breaker opens/closes, through a durable outbox, to the configured sinks.</summary>
public static partial class AlertHostingExtensions
{
    /// <summary>The named <see cref="HttpClient"/> the webhook and SNS sinks share.</summary>
    public const string HttpClientName = "alerts";

    /// <summary>
    /// <see cref="AlertOptions"/> (section <c>Alerts</c>) validated at start; the file outbox under
    /// <c>Alerts:OutboxDirectory</c>; the sinks of <c>Alerts:Sinks</c>; the <see cref="AlertService"/> as the
    /// <see cref="ISessionEventSink"/> and as a breaker transition sink beside the metrics; recovery of the outbox at start.
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
            .RemoveAllLoggers();
        services.TryAddSingleton<IAlertOutboxStore>(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<AlertOptions>>().Value;
            var directory = options.OutboxDirectory;
            var root = sp.GetRequiredService<IHostEnvironment>().ContentRootPath;
            return OpenOutbox(
                Path.IsPathRooted(directory) ? directory : Path.Combine(root, directory),
                options.Retention,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<AlertService>>());
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertObserver, AlertMetricsObserver>());
        services.AddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<AlertOptions>>().Value;
            return new AlertService(
                options,
                sp.GetRequiredService<IAlertOutboxStore>(),
                CreateSinks(sp, options),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>(),
                new CompositeAlertObserver(sp.GetServices<IAlertObserver>()),
                sp.GetService<Cluster.NodeIdentity>()?.Id);
        });
        services.AddSingleton<ISessionEventSink>(static sp => sp.GetRequiredService<AlertService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBreakerTransitionSink, AlertBreakerTransitionSink>());
        services.AddHostedService<AlertOutboxRecovery>();
        return builder;
    }

    /// <summary>
    /// The file outbox, or — when its directory cannot be written (a read-only image without a volume) — the in-memory
    /// one with an error logged: a node that cannot keep alerts across a restart still alerts, rather than not starting.
    /// </summary>
    private static IAlertOutboxStore OpenOutbox(string directory, TimeSpan retention, TimeProvider time, ILogger logger)
    {
        try
        {
            var store = new FileAlertOutboxStore(directory, retention, time);
            var probe = Path.Combine(store.Directory, ".write-probe-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return store;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            OutboxNotWritable(logger, directory, ex);
            return new InMemoryAlertOutboxStore();
        }
    }

    [LoggerMessage(320, LogLevel.Error, "The alert outbox directory {Directory} cannot be written: alerts are kept in memory only and a restart loses undelivered ones. Set Alerts:OutboxDirectory to a writable (persistent) path")]
    private static partial void OutboxNotWritable(ILogger logger, string directory, Exception exception);

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

    /// <summary>Breaker transitions to the alert actor (a Tell: the breaker's turn never waits).</summary>
    private sealed class AlertBreakerTransitionSink(AlertService alerts) : IBreakerTransitionSink
    {
        public void OnTransition(string model, BreakerTransition transition) => alerts.BreakerTransition(model, transition);
    }

    /// <summary>The alert counters of <see cref="GatewayMetrics"/>.</summary>
    private sealed class AlertMetricsObserver(GatewayMetrics metrics) : IAlertObserver
    {
        public void Raised(string kind) => metrics.AlertRaised(kind);

        public void Suppressed(string kind, string why) => metrics.AlertSuppressed(kind, why);

        public void Delivered(string sink) => metrics.AlertDelivered(sink);

        public void Failed(string sink) => metrics.AlertFailed(sink);
    }

    /// <summary>At start, reads the outbox and resumes delivering what a previous run left pending; at stop, ends the alert actor.</summary>
    private sealed class AlertOutboxRecovery(AlertService alerts) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => alerts.RecoverAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
