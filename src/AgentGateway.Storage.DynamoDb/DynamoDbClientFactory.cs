using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Microsoft.Extensions.Logging;
using AgentGateway.Contracts.Logging;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>The DynamoDB client of <see cref="DynamoDbOptions"/>: one per node, shared by every store (it is thread-safe).</summary>
public static partial class DynamoDbClientFactory
{
    /// <summary>The keys used against a loopback endpoint when the SDK's chain finds none (dynalite accepts any).</summary>
    public const string LocalAccessKey = "local";

    /// <summary>
    /// A client for <see cref="DynamoDbOptions.ServiceUrl"/> (signing for <see cref="DynamoDbOptions.Region"/>) or AWS's
    /// endpoint of the region. Credentials come from the SDK's default chain (environment variables, profile, container
    /// or instance role); when the endpoint is on loopback and the chain finds none, fixed local keys are used, so
    /// dynalite or DynamoDB Local works with no AWS set-up.
    /// </summary>
    public static AmazonDynamoDBClient Create(DynamoDbOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var config = new AmazonDynamoDBConfig();
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        if (options.IsLoopback && !HasDefaultCredentials())
        {
            UsingLocalCredentials(logger, options.ServiceUrl!);
            return new AmazonDynamoDBClient(new BasicAWSCredentials(LocalAccessKey, LocalAccessKey), config);
        }

        // The default chain, resolved by the client (and refreshed when keys rotate).
        return new AmazonDynamoDBClient(config);
    }

    private static bool HasDefaultCredentials()
    {
        try
        {
            return new DefaultAWSCredentialsIdentityResolver().ResolveIdentity(null) is not null;
        }
        catch (AmazonClientException)
        {
            return false;
        }
    }

    [LoggerMessage(LogEvents.Storage + 20, LogLevel.Information, "No AWS credentials found; using fixed local keys for the loopback DynamoDB endpoint {ServiceUrl}")]
    private static partial void UsingLocalCredentials(ILogger logger, string serviceUrl);
}
