using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Alerts;

/// <summary>Settings of alerting (configuration section <c>Alerts</c>).</summary>
public sealed class AlertOptions : IValidatableObject
{
    public const string SectionName = "Alerts";
    public const string DefaultSinks = AlertSinkNames.Log;
    public const string DefaultOutboxDirectory = "alerts-outbox";
    public static readonly TimeSpan DefaultBatchWindow = TimeSpan.FromMilliseconds(200);
    public const int DefaultMaxBatchSize = 100;
    public const int DefaultRateLimitPerKey = 5;
    public static readonly TimeSpan DefaultRateLimitWindow = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultRetryMaxDelay = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultPublishTimeout = TimeSpan.FromSeconds(10);
    public const int DefaultRecentLimit = 200;
    public static readonly TimeSpan DefaultReminderPeriod = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);

    /// <summary>Where alerts go, comma-separated: <c>log</c>, <c>slack</c>, <c>sns</c>. Default <c>log</c>.</summary>
    [Required]
    public string Sinks { get; set; } = DefaultSinks;

    /// <summary>
    /// The outbox: one JSON file per alert, written before it is published. A relative path is under the node's
    /// content root (the app's folder). Default <c>alerts-outbox</c>. One directory per node.
    /// </summary>
    public string OutboxDirectory { get; set; } = DefaultOutboxDirectory;

    /// <summary>Alerts raised within this time are published together. Zero publishes each at once. Default 200 ms.</summary>
    public TimeSpan BatchWindow { get; set; } = DefaultBatchWindow;

    /// <summary>A batch this large is published without waiting for the window. Default 100.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>Alerts allowed per key (a session, a breaker) within <see cref="RateLimitWindow"/>; more are suppressed (counted, logged). Default 5.</summary>
    [Range(1, 1_000_000)]
    public int RateLimitPerKey { get; set; } = DefaultRateLimitPerKey;

    /// <summary>The rate limit's sliding window. Default 1 minute.</summary>
    public TimeSpan RateLimitWindow { get; set; } = DefaultRateLimitWindow;

    /// <summary>Wait before the first retry of a failed publish; doubled per attempt up to <see cref="RetryMaxDelay"/>. Default 1 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = DefaultRetryBaseDelay;

    /// <summary>The longest wait between retries (retries never stop). Default 5 minutes.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = DefaultRetryMaxDelay;

    /// <summary>One publish attempt's timeout. Default 10 s.</summary>
    public TimeSpan PublishTimeout { get; set; } = DefaultPublishTimeout;

    /// <summary>Alerts kept in memory for <c>GET /admin/alerts</c> (pending ones are always kept). Default 200.</summary>
    [Range(1, 100_000)]
    public int RecentLimit { get; set; } = DefaultRecentLimit;

    /// <summary>Delivered alerts are deleted from the outbox this long after their last delivery (at the next start). Default 7 days.</summary>
    public TimeSpan Retention { get; set; } = DefaultRetention;

    /// <summary>
    /// While an alert is undelivered the outbox keeps a reminder of this period, which brings a deactivated outbox back
    /// to deliver it. At least 1 minute (Orleans' minimum). Default 1 minute.
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = DefaultReminderPeriod;

    public SlackSinkOptions Slack { get; set; } = new();

    public SnsSinkOptions Sns { get; set; } = new();

    /// <summary>The configured sink names, lower-cased, without duplicates.</summary>
    public IReadOnlyList<string> SinkNames() => Sinks
        .Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(static s => s.ToLowerInvariant())
        .Distinct()
        .ToArray();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var sinks = SinkNames();
        if (sinks.Count == 0)
        {
            yield return Error($"{SectionName}:{nameof(Sinks)} names no sink (use log, slack, sns).", nameof(Sinks));
        }

        foreach (var unknown in sinks.Where(static s => !AlertSinkNames.All.Contains(s)))
        {
            yield return Error($"{SectionName}:{nameof(Sinks)}: unknown sink '{unknown}' (use log, slack, sns).", nameof(Sinks));
        }

        if (string.IsNullOrWhiteSpace(OutboxDirectory))
        {
            yield return Error($"{SectionName}:{nameof(OutboxDirectory)} must be set.", nameof(OutboxDirectory));
        }

        if (BatchWindow < TimeSpan.Zero || BatchWindow > TimeSpan.FromSeconds(10))
        {
            yield return Error($"{SectionName}:{nameof(BatchWindow)} must be between 0 and 10 s (was {BatchWindow}).", nameof(BatchWindow));
        }

        foreach (var (name, value) in new[] { (nameof(RateLimitWindow), RateLimitWindow), (nameof(RetryBaseDelay), RetryBaseDelay), (nameof(PublishTimeout), PublishTimeout), (nameof(Retention), Retention) })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return Error($"{SectionName}:{name} must be positive (was {value}).", name);
            }
        }

        if (ReminderPeriod < TimeSpan.FromMinutes(1))
        {
            yield return Error($"{SectionName}:{nameof(ReminderPeriod)} must be at least 1 minute (was {ReminderPeriod}).", nameof(ReminderPeriod));
        }

        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return Error($"{SectionName}:{nameof(RetryMaxDelay)} must be at least {nameof(RetryBaseDelay)} (was {RetryMaxDelay}).", nameof(RetryMaxDelay));
        }

        if (sinks.Contains(AlertSinkNames.Slack) && !IsHttpUrl(Slack.WebhookUrl))
        {
            yield return Error($"{SectionName}:Slack:WebhookUrl must be an absolute http(s) URL when the slack sink is on.", "Slack");
        }

        if (sinks.Contains(AlertSinkNames.Sns))
        {
            if (SnsSinkOptions.ParseTopicArn(Sns.TopicArn) is null)
            {
                yield return Error($"{SectionName}:Sns:TopicArn must be a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME) when the sns sink is on (was '{Sns.TopicArn}').", "Sns");
            }

            if (Sns.ServiceUrl is { Length: > 0 } url && !IsHttpUrl(url))
            {
                yield return Error($"{SectionName}:Sns:ServiceUrl must be an absolute http(s) URL (was '{url}').", "Sns");
            }
        }
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static ValidationResult Error(string message, string member) => new(message, [member]);
}

/// <summary>The sink names of <see cref="AlertOptions.Sinks"/>; also the <c>sink</c> label of the alert metrics.</summary>
public static class AlertSinkNames
{
    public const string Log = "log";
    public const string Slack = "slack";
    public const string Sns = "sns";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Log, Slack, Sns };
}

/// <summary>A Slack-compatible incoming webhook (section <c>Alerts:Slack</c>).</summary>
public sealed class SlackSinkOptions
{
    /// <summary>The webhook URL (a secret: it is never logged).</summary>
    public string? WebhookUrl { get; set; }
}

/// <summary>AWS SNS <c>Publish</c> (section <c>Alerts:Sns</c>); credentials come from the AWS SDK's standard chain.</summary>
public sealed class SnsSinkOptions
{
    /// <summary>The topic, e.g. <c>arn:aws:sns:us-east-1:123456789012:gateway-alerts</c>.</summary>
    public string? TopicArn { get; set; }

    /// <summary>The signing region; default: the topic ARN's region.</summary>
    public string? Region { get; set; }

    /// <summary>The endpoint; default <c>https://sns.{region}.amazonaws.com/</c> (tests point it at loopback).</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The topic ARN's region, or null when it is not a topic ARN.</summary>
    public static string? ParseTopicArn(string? arn)
    {
        var parts = arn?.Split(':');
        return parts is { Length: 6 } && parts[0] == "arn" && parts[2] == "sns" && parts[3].Length > 0 && parts[4].Length > 0 && parts[5].Length > 0
            ? parts[3]
            : null;
    }

    public string SigningRegion => Region is { Length: > 0 } region ? region : ParseTopicArn(TopicArn) ?? "us-east-1";

    public Uri Endpoint => ServiceUrl is { Length: > 0 } url ? new Uri(url) : new Uri($"https://sns.{SigningRegion}.amazonaws.com/");
}
