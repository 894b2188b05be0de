using AgentGateway.Contracts.Alerts;
using System.Text.Json.Nodes;
using AgentGateway.Alerts.Sinks;
using AgentGateway.Contracts.Sessions;
using AgentGateway.TestSupport;
using Amazon.Runtime;

namespace AgentGateway.Alerts.Tests;

public sealed class SinkTests : IAsyncLifetime
{
    private const string TopicArn = "arn:aws:sns:eu-west-1:123456789012:gateway-alerts";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 5, 30, 15, TimeSpan.Zero));
    private readonly HttpClient _http = new();
    private LoopbackEndpoint _endpoint = null!;

    private static Alert Trip => new AlertComposer("n:1").SessionTripped(new SessionTripped("s-1", TripReason.LoopLimit, 5, 321, FakeTimeProvider.DefaultStart));

    public async Task InitializeAsync()
    {
        AwsTestCredentials.Use();
        _endpoint = await LoopbackEndpoint.StartAsync();
    }

    [Fact]
    public async Task SnsPublish_LoopbackEndpoint_SigV4AuthorizationDateAndPublishForm()
    {
        var sink = new SnsAlertSink(_http, new SnsSinkOptions { TopicArn = TopicArn, ServiceUrl = _endpoint.BaseAddress.ToString() }, SnsAlertSink.DefaultCredentials(), _time);

        await sink.PublishAsync(Trip, CancellationToken.None);

        var request = _endpoint.Received.ShouldHaveSingleItem();
        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/");
        request.Headers["Content-Type"].ShouldBe("application/x-www-form-urlencoded; charset=utf-8");
        request.Headers["X-Amz-Date"].ShouldBe("20261122T053015Z");
        var auth = SigV4.AuthorizationShape().Match(request.Headers["Authorization"]);
        auth.Success.ShouldBeTrue(request.Headers["Authorization"]);
        auth.Groups["akid"].Value.ShouldBe(AwsTestCredentials.AccessKeyId);
        auth.Groups["date"].Value.ShouldBe("20261122");
        auth.Groups["region"].Value.ShouldBe("eu-west-1");
        auth.Groups["service"].Value.ShouldBe("sns");
        auth.Groups["signed"].Value.ShouldBe("content-type;host;x-amz-date");
        auth.Groups["signature"].Value.ShouldBe(SigV4.ExpectedSignature(request, AwsTestCredentials.SecretAccessKey));

        var form = request.Form();
        form["Action"].ShouldBe("Publish");
        form["Version"].ShouldBe("2010-03-31");
        form["TopicArn"].ShouldBe(TopicArn);
        form["Subject"].ShouldBe("CRITICAL: session s-1 terminated (loop_limit)");
        form["MessageAttributes.entry.1.Name"].ShouldBe("message_id");
        form["MessageAttributes.entry.1.Value.DataType"].ShouldBe("String");
        form["MessageAttributes.entry.1.Value.StringValue"].ShouldBe(Trip.MessageId);
        var message = JsonNode.Parse(form["Message"])!;
        ((string?)message["text"]).ShouldBe("CRITICAL: Session ID [s-1] terminated due to loop limit");
        ((string?)message["message_id"]).ShouldBe(Trip.MessageId);
        ((string?)message["body"]!["session_id"]).ShouldBe("s-1");
        message["body"]!["tenant"].ShouldBeNull();
        ((int)message["body"]!["loop_count"]!).ShouldBe(5);
        ((long)message["body"]!["tokens_in_window"]!).ShouldBe(321);
        ((string?)message["body"]!["node"]).ShouldBe("n:1");
    }

    [Fact]
    public async Task SnsPublish_SessionCredentials_TokenHeaderSigned()
    {
        var keys = new ImmutableCredentials("AKIDSESSION", "secret", "session-token");
        var sink = new SnsAlertSink(_http, new SnsSinkOptions { TopicArn = TopicArn, ServiceUrl = _endpoint.BaseAddress.ToString() }, _ => Task.FromResult(keys), _time);

        await sink.PublishAsync(Trip, CancellationToken.None);

        var request = _endpoint.Received.ShouldHaveSingleItem();
        request.Headers["X-Amz-Security-Token"].ShouldBe("session-token");
        var auth = SigV4.AuthorizationShape().Match(request.Headers["Authorization"]);
        auth.Groups["signed"].Value.ShouldBe("content-type;host;x-amz-date;x-amz-security-token");
        auth.Groups["signature"].Value.ShouldBe(SigV4.ExpectedSignature(request, "secret"));
    }

    [Fact]
    public async Task SnsPublish_EndpointAnswers503_ThrowsWithStatus()
    {
        _endpoint.Status = static _ => 503;
        var sink = new SnsAlertSink(_http, new SnsSinkOptions { TopicArn = TopicArn, ServiceUrl = _endpoint.BaseAddress.ToString() }, SnsAlertSink.DefaultCredentials(), _time);

        var error = await Should.ThrowAsync<AlertPublishException>(() => sink.PublishAsync(Trip, CancellationToken.None));

        error.Message.ShouldStartWith("SNS Publish answered 503");
    }

    [Fact]
    public async Task SlackPublish_LoopbackWebhook_PostsTextAndBlocks()
    {
        var sink = new SlackWebhookSink(_http, new Uri(_endpoint.BaseAddress, "/services/T000/B000/XXXX"));

        await sink.PublishAsync(Trip, CancellationToken.None);

        var request = _endpoint.Received.ShouldHaveSingleItem();
        request.Path.ShouldBe("/services/T000/B000/XXXX");
        request.Headers["Content-Type"].ShouldBe("application/json; charset=utf-8");
        var json = JsonNode.Parse(request.Body)!;
        ((string?)json["text"]).ShouldBe("CRITICAL: Session ID [s-1] terminated due to loop limit");
        var blocks = json["blocks"]!.AsArray();
        ((string?)blocks[0]!["type"]).ShouldBe("section");
        ((string?)blocks[0]!["text"]!["text"]).ShouldBe("CRITICAL: Session ID [s-1] terminated due to loop limit");
        var facts = blocks[1]!["elements"]!.AsArray().Select(e => (string?)e!["text"]).ToList();
        facts.ShouldContain("*session* `s-1`");
        facts.ShouldContain("*reason* loop_limit");
        facts.ShouldContain($"*alert* {Trip.MessageId}");
    }

    [Fact]
    public async Task SlackPublish_WebhookAnswers500_Throws()
    {
        _endpoint.Status = static _ => 500;
        var sink = new SlackWebhookSink(_http, _endpoint.BaseAddress);

        var error = await Should.ThrowAsync<AlertPublishException>(() => sink.PublishAsync(Trip, CancellationToken.None));

        error.Message.ShouldBe("The Slack webhook answered 500.");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _endpoint.DisposeAsync();
    }
}
