using System.ComponentModel.DataAnnotations;
using AgentGateway.Alerts.Outbox;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Cluster;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Storage.DynamoDb;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.Options;

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

/// <summary>How a node gets durable state shared with the other nodes of a cluster.</summary>
public static partial class StorageHostingExtensions
{
    /// <summary>
    /// <see cref="StorageOptions"/> validated at start. For <c>Storage:Provider=DynamoDb</c>: <see cref="DynamoDbOptions"/>
    /// (section <c>DynamoDb</c>) validated at start, one <see cref="IAmazonDynamoDB"/> client, the DynamoDB stores as
    /// <see cref="ISessionStore"/>, <see cref="ISessionCatalog"/>, <see cref="IBreakerStore"/>,
    /// <see cref="IAlertOutboxStore"/> and <see cref="INodeRegistry"/>, and the tables made (or checked) at start before
    /// anything is served. Call it before the features that register the embedded stores (they only add what is
    /// missing). For <c>InMemory</c> nothing is registered: the embedded stores stay.
    /// </summary>
    public static WebApplicationBuilder AddDurableStorage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<StorageOptions>(builder.Configuration, StorageOptions.SectionName);
        var storage = new StorageOptions();
        builder.Configuration.GetSection(StorageOptions.SectionName).Bind(storage);
        if (!storage.IsDynamoDb)
        {
            // InMemory, or an unknown provider that validation reports at start.
            return builder;
        }

        services.AddValidatedOptions<DynamoDbOptions>(builder.Configuration, DynamoDbOptions.SectionName);
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
        services.AddSingleton<INodeRegistry>(static sp => new DynamoNodeRegistry(
            sp.GetRequiredService<IAmazonDynamoDB>(),
            sp.GetRequiredService<IOptions<DynamoDbOptions>>().Value));
        // Hosted services start in registration order, and all of them before the server: this one comes before the
        // alert outbox's recovery (AddAlerts), which reads the alerts table.
        services.AddHostedService<DynamoTablesStartup>();
        return builder;
    }

    [LoggerMessage(720, LogLevel.Critical, "The DynamoDB tables are not usable; the node does not start")]
    private static partial void TablesUnusable(ILogger logger, Exception exception);

    /// <summary>Makes (or checks) the tables at start: <see cref="DynamoTables.EnsureAsync"/>; a failure stops the start.</summary>
    private sealed class DynamoTablesStartup(IAmazonDynamoDB client, IOptions<DynamoDbOptions> options, ILogger<DynamoTablesStartup> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
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

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
