using AgentGateway.Contracts.Alerts;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentGateway.Alerts.Outbox;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Internal.Auth;

namespace AgentGateway.Alerts.Sinks;

/// <summary>
/// AWS SNS <c>Publish</c> without the SNS SDK (not served here): a form-encoded query-protocol POST signed with
/// AWSSDK.Core's SigV4 signer (<see cref="AWS4Signer.ComputeSignature(ImmutableCredentials, string, DateTime, string, string, string)"/>).
/// The message is the alert's JSON (text plus body); the message id travels as the <c>message_id</c> attribute so
/// subscribers can drop a re-delivery.
/// </summary>
public sealed class SnsAlertSink(HttpClient http, SnsSinkOptions options, Func<CancellationToken, Task<ImmutableCredentials>> credentials, TimeProvider time) : IAlertSink
{
    public const string Service = "sns";
    public const string ContentType = "application/x-www-form-urlencoded; charset=utf-8";

    public string Name => AlertSinkNames.Sns;

    /// <summary>Credentials from the AWS SDK's standard chain (environment variables, profile, container or instance role).</summary>
    public static Func<CancellationToken, Task<ImmutableCredentials>> DefaultCredentials()
    {
        var resolver = new DefaultAWSCredentialsIdentityResolver();
        return async cancellationToken =>
        {
            // Resolved on each publish: the resolver caches, and rotated keys (roles, SSO) are picked up.
            var resolved = await resolver.ResolveIdentityAsync(null, cancellationToken).ConfigureAwait(false);
            return await resolved.GetCredentialsAsync().ConfigureAwait(false);
        };
    }

    public async Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var body = Encoding.UTF8.GetBytes(FormBody(alert, options.TopicArn!));
        var keys = await credentials(cancellationToken).ConfigureAwait(false);
        using var request = Sign(options.Endpoint, options.SigningRegion, body, keys, time.GetUtcNow().UtcDateTime);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new AlertPublishException($"SNS Publish answered {(int)response.StatusCode}: {Truncate(detail, 300)}");
        }
    }

    /// <summary>The <c>Publish</c> form: action, topic, message (JSON), subject, the <c>message_id</c> and <c>kind</c> attributes, version.</summary>
    public static string FormBody(Alert alert, string topicArn)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var message = new JsonObject
        {
            ["message_id"] = alert.MessageId,
            ["kind"] = alert.Kind,
            ["severity"] = alert.Severity,
            ["text"] = alert.Text,
            ["body"] = JsonSerializer.SerializeToNode(alert.Body, AlertJson.Default.AlertBody),
        };
        var fields = new List<KeyValuePair<string, string>>
        {
            new("Action", "Publish"),
            new("TopicArn", topicArn),
            new("Message", message.ToJsonString()),
            new("Subject", alert.Subject),
            new("MessageAttributes.entry.1.Name", "message_id"),
            new("MessageAttributes.entry.1.Value.DataType", "String"),
            new("MessageAttributes.entry.1.Value.StringValue", alert.MessageId),
            new("MessageAttributes.entry.2.Name", "kind"),
            new("MessageAttributes.entry.2.Value.DataType", "String"),
            new("MessageAttributes.entry.2.Value.StringValue", alert.Kind),
            new("Version", "2010-03-31"),
        };
        return string.Join('&', fields.Select(static f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));
    }

    /// <summary>
    /// A SigV4-signed POST of <paramref name="body"/> to <paramref name="endpoint"/>: the canonical request (method, path,
    /// no query, the content-type, host and x-amz-date headers, the body's SHA-256) is built here; the string to sign,
    /// the signing key and the signature come from the SDK's <see cref="AWS4Signer"/>.
    /// </summary>
    public static HttpRequestMessage Sign(Uri endpoint, string region, byte[] body, ImmutableCredentials keys, DateTime signedAtUtc)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(keys);
        var amzDate = signedAtUtc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var host = endpoint.IsDefaultPort ? endpoint.Host : endpoint.Host + ":" + endpoint.Port.ToString(CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = ContentType,
            ["host"] = host,
            ["x-amz-date"] = amzDate,
        };
        if (keys.UseToken)
        {
            headers["x-amz-security-token"] = keys.Token;
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var path = string.IsNullOrEmpty(endpoint.AbsolutePath) ? "/" : endpoint.AbsolutePath;
        var canonical = new StringBuilder()
            .Append("POST\n")
            .Append(path).Append('\n')
            .Append('\n') // no query string
            .Append(string.Concat(headers.Select(static h => h.Key + ":" + h.Value + "\n")))
            .Append('\n')
            .Append(signedHeaders).Append('\n')
            .Append(Convert.ToHexStringLower(SHA256.HashData(body)))
            .ToString();
        var signature = AWS4Signer.ComputeSignature(keys, region, signedAtUtc, Service, signedHeaders, canonical);

        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (keys.UseToken)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", keys.Token);
        }

        request.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
        return request;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
