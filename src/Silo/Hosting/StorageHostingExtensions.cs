using System.ComponentModel.DataAnnotations;
using AgentGateway.Alerts;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Contracts.Logging;
using AgentGateway.Providers.Storage;
using AgentGateway.Storage.DynamoDb;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace AgentGateway.Silo.Hosting;

/// <summary>Which store keeps the node's durable state (configuration section <c>Storage</c>).</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    /// <summary>Sessions and breakers in the node's memory, the alert outbox in files: the embedded default (one node).</summary>
    public const string InMemory = "InMemory";

    /// <summary>Every store in DynamoDB tables (section <c>DynamoDb</c>), shared by the nodes of a cluster.</summary>
    public const string DynamoDb = "DynamoDb";

    /// <summary><c>InMemory</c> (the default) or <c>DynamoDb</c>, in any case.</summary>
    public string Provider { get; set; } = InMemory;

    public bool IsDynamoDb => string.Equals(Provider, DynamoDb, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsDynamoDb && !string.Equals(Provider, InMemory, StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"{SectionName}:Provider '{Provider}' is unknown; known providers: {InMemory}, {DynamoDb}.");
        }
    }
}

/// <summary>Where a node keeps its state: the grains' stores (sessions, breakers) and the alert outbox.</summary>
public static partial class StorageHostingExtensions
{
    /// <summary>
    /// <see cref="StorageOptions"/> validated at start, and the stores of the chosen provider as
    /// <see cref="ISessionStore"/>, <see cref="ISessionCatalog"/>, <see cref="IBreakerStore"/> and
    /// <see cref="IAlertOutboxStore"/>. <c>InMemory</c> (the embedded default): sessions and breakers in memory, the alert
    /// outbox in files under <c>Alerts:OutboxDirectory</c>. <c>DynamoDb</c>: every store in DynamoDB tables (section
    /// <c>DynamoDb</c>), made or checked as the silo starts, before any grain runs.
    /// </summary>
    public static WebApplicationBuilder AddStateStores(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<StorageOptions>(builder.Configuration, StorageOptions.SectionName);
        var storage = new StorageOptions();
        builder.Configuration.GetSection(StorageOptions.SectionName).Bind(storage);
        if (storage.IsDynamoDb)
        {
            AddDynamoDbStores(services, builder.Configuration);
        }
        else
        {
            // InMemory, or an unknown provider that validation reports at start.
            services.AddSingleton<InMemorySessionStore>();
            services.AddSingleton<ISessionStore>(static sp => sp.GetRequiredService<InMemorySessionStore>());
            services.AddSingleton<ISessionCatalog>(static sp => sp.GetRequiredService<InMemorySessionStore>());
            services.AddSingleton<IBreakerStore>(static _ => new InMemoryBreakerStore());
            services.AddSingleton<IAlertOutboxStore>(static sp =>
            {
                var options = sp.GetRequiredService<IOptions<AlertOptions>>().Value;
                var directory = options.OutboxDirectory;
                var root = sp.GetRequiredService<IHostEnvironment>().ContentRootPath;
                return OpenOutbox(
                    Path.IsPathRooted(directory) ? directory : Path.Combine(root, directory),
                    options.Retention,
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StorageHostingExtensions)));
            });
        }

        return builder;
    }

    private static void AddDynamoDbStores(IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DynamoDbOptions>(configuration, DynamoDbOptions.SectionName);
        services.AddSingleton<IAmazonDynamoDB>(static sp => DynamoDbClientFactory.Create(
            sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DynamoDbClientFactory))));
        services.AddSingleton(static sp => new DynamoSessionStore(
            sp.GetRequiredService<IAmazonDynamoDB>(),
            sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ISessionStore>(static sp => sp.GetRequiredService<DynamoSessionStore>());
        services.AddSingleton<ISessionCatalog>(static sp => sp.GetRequiredService<DynamoSessionStore>());
        services.AddSingleton<IBreakerStore>(static sp => new DynamoBreakerStore(
            sp.GetRequiredService<IAmazonDynamoDB>(),
            sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IAlertOutboxStore>(static sp => new DynamoAlertOutboxStore(
            sp.GetRequiredService<IAmazonDynamoDB>(),
            sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value));

        // The tables are made (or checked) in the silo's storage stage, before any grain activates or the web server
        // takes a request: the lifecycle orders it, not the order of registrations.
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DynamoTablesStartup>();
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

    [LoggerMessage(LogEvents.Storage + 0, LogLevel.Critical, "The DynamoDB tables are not usable; the node does not start")]
    private static partial void TablesUnusable(ILogger logger, Exception exception);

    [LoggerMessage(LogEvents.Storage + 1, LogLevel.Error, "The alert outbox directory {Directory} cannot be written: alerts are kept in memory only and a restart loses undelivered ones. Set Alerts:OutboxDirectory to a writable (persistent) path")]
    private static partial void OutboxNotWritable(ILogger logger, string directory, Exception exception);

    /// <summary>Makes (or checks) the tables as the silo starts: <see cref="DynamoTables.EnsureAsync"/>; a failure stops the start.</summary>
    private sealed class DynamoTablesStartup(IAmazonDynamoDB client, IOptions<DynamoDbOptions> options, ILogger<DynamoTablesStartup> logger)
        : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(DynamoTablesStartup), ServiceLifecycleStage.RuntimeStorageServices, EnsureAsync);

        private async Task EnsureAsync(CancellationToken cancellationToken)
        {
            try
            {
                await DynamoTables.EnsureAsync(client, options.Value, logger, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                TablesUnusable(logger, ex);
                throw;
            }
        }
    }
}
