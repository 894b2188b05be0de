using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Text.RegularExpressions;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>Where the durable stores keep their tables (configuration section <c>DynamoDb</c>).</summary>
public sealed partial class DynamoDbOptions : IValidatableObject
{
    public const string SectionName = "DynamoDb";
    public const string DefaultRegion = "us-east-1";
    public const string DefaultTablePrefix = "agent-gateway-";
    public static readonly TimeSpan DefaultSessionTimeToLive = TimeSpan.FromDays(30);
    public static readonly TimeSpan DefaultAlertTimeToLive = TimeSpan.FromDays(7);

    /// <summary>The longest prefix: table names are at most 255 characters and the longest suffix is <c>grains</c>.</summary>
    public const int MaxTablePrefixLength = 255 - 6;

    /// <summary>
    /// The DynamoDB endpoint, e.g. <c>http://127.0.0.1:8000</c> for dynalite or DynamoDB Local. Null (the default):
    /// AWS's endpoint for <see cref="Region"/>.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The AWS region (and the signing region when <see cref="ServiceUrl"/> is set). Default <c>us-east-1</c>.</summary>
    [Required]
    public string Region { get; set; } = DefaultRegion;

    /// <summary>
    /// Put before each table's name (<c>grains</c>, <c>alerts</c>), so several gateways
    /// (or test runs) can share an account. Letters, digits and <c>_ - .</c> only. Default <c>agent-gateway-</c>.
    /// </summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>
    /// Create missing tables (and enable their TTL) at start, waiting until they are active. False: a missing table
    /// fails the start (tables made by infrastructure code). Default true.
    /// </summary>
    public bool CreateTables { get; set; } = true;

    /// <summary>
    /// An active session's item expires this long after its last write (DynamoDB TTL); tripped and ended sessions
    /// never expire. Also a breaker's, unless isolated. Default 30 days.
    /// </summary>
    public TimeSpan SessionTimeToLive { get; set; } = DefaultSessionTimeToLive;

    /// <summary>An alert's item expires this long after it was stored (DynamoDB TTL), delivered or not. Default 7 days.</summary>
    public TimeSpan AlertTimeToLive { get; set; } = DefaultAlertTimeToLive;

    /// <summary>The grains' state (sessions, breakers): Orleans' DynamoDB grain storage layout.</summary>
    public string GrainsTable => TablePrefix + "grains";

    public string AlertsTable => TablePrefix + "alerts";

    /// <summary>Whether <see cref="ServiceUrl"/> names a loopback host (dynalite, DynamoDB Local on this machine).</summary>
    public bool IsLoopback =>
        Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri)
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ServiceUrl is not null
            && (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            yield return new ValidationResult($"{SectionName}:ServiceUrl must be an absolute http or https URL (was '{ServiceUrl}').");
        }

        if (TablePrefix is null || TablePrefix.Length > MaxTablePrefixLength || !TableNameCharacters().IsMatch(TablePrefix))
        {
            yield return new ValidationResult(
                $"{SectionName}:TablePrefix may hold only letters, digits, '_', '-' and '.', at most {MaxTablePrefixLength} of them (was '{TablePrefix}').");
        }

        if (SessionTimeToLive <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:SessionTimeToLive must be positive (was {SessionTimeToLive}).");
        }

        if (AlertTimeToLive <= TimeSpan.Zero)
        {
            yield return new ValidationResult($"{SectionName}:AlertTimeToLive must be positive (was {AlertTimeToLive}).");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex TableNameCharacters();
}
