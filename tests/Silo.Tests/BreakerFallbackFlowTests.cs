using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The breakers issue's end-to-end flow on a node of its own (default breaker settings, fake time): a failing
/// model's breaker opens, its requests are answered by the fallback model without calling it, every model
/// failing gives the deterministic answer, and after the break a probe closes the breaker. No 5xx reaches the
/// client at any point.
/// </summary>
public sealed class BreakerFallbackFlowTests : IAsyncDisposable
{
    private readonly OwnNode _node = new(new Dictionary<string, string> { ["Routing:MaxRetries"] = "0" });

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task Flow_HaikuFails_Open_FallbackToSonnet_Deterministic_ProbeCloses()
    {
        // 20 requests while haiku fails: all answered by sonnet; haiku's breaker opens after 5 failures in a row,
        // so haiku itself is called exactly 5 times.
        for (var i = 0; i < 20; i++)
        {
            using var response = await PostAsync("haiku", "Hello [[sim:error=500@haiku]]");
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            response.Header("X-Gateway-Route").ShouldBe("fallback:sonnet");
        }

        (await CallsAsync("haiku")).ShouldBe(5);
        var open = await BreakerAsync("haiku");
        ((string?)open["state"]).ShouldBe("open");
        ((long)open["openCount"]!).ShouldBe(1);
        ((int)open["consecutiveFailures"]!).ShouldBe(5);
        DateTimeOffset.Parse((string)open["nextHalfOpenAt"]!, System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBe(_node.Time.GetUtcNow().AddSeconds(30));
        ((string?)(await BreakerAsync("sonnet"))["state"]).ShouldBe("closed");

        // A normal request to haiku: answered by sonnet, haiku not called.
        using (var normal = await PostAsync("haiku", "Hello"))
        {
            normal.StatusCode.ShouldBe(HttpStatusCode.OK);
            normal.Header("X-Gateway-Route").ShouldBe("fallback:sonnet");
            ((string?)(await normal.ReadJsonAsync()).Message()["content"]).ShouldBe("This is a simulated answer from sonnet.");
        }

        (await CallsAsync("haiku")).ShouldBe(5);

        // Every model failing: the deterministic answer, still HTTP 200.
        using (var all = await PostAsync("haiku", "Hello [[sim:error=500]]"))
        {
            all.StatusCode.ShouldBe(HttpStatusCode.OK);
            all.Header("X-Gateway-Route").ShouldBe("deterministic");
            ((string?)(await all.ReadJsonAsync()).Message()["content"]).ShouldBe(GatewayFixture.Fallback);
        }

        // Just before the break ends haiku is still skipped; at 30 s one probe goes through and closes it.
        _node.Time.Advance(TimeSpan.FromSeconds(29.999));
        using (var early = await PostAsync("haiku", "Hello"))
        {
            early.Header("X-Gateway-Route").ShouldBe("fallback:sonnet");
        }

        _node.Time.Advance(TimeSpan.FromMilliseconds(1));
        using (var probe = await PostAsync("haiku", "Hello"))
        {
            probe.Header("X-Gateway-Route").ShouldBe("primary");
            ((string?)(await probe.ReadJsonAsync()).Message()["content"]).ShouldBe("This is a simulated answer from haiku.");
        }

        (await CallsAsync("haiku")).ShouldBe(6);
        var closed = await BreakerAsync("haiku");
        ((string?)closed["state"]).ShouldBe("closed");
        using var after = await PostAsync("haiku", "Hello again");
        after.Header("X-Gateway-Route").ShouldBe("primary");

        // Every transition was counted: open, half-open on the probe, closed on its success.
        var metrics = await _node.Http.GetStringAsync("/metrics");
        metrics.ShouldContain("gateway_breaker_transitions_total{model=\"haiku\",reason=\"ConsecutiveFailures\",to=\"open\"} 1\n");
        metrics.ShouldContain("gateway_breaker_transitions_total{model=\"haiku\",reason=\"BreakElapsed\",to=\"half-open\"} 1\n");
        metrics.ShouldContain("gateway_breaker_transitions_total{model=\"haiku\",reason=\"ProbeSucceeded\",to=\"closed\"} 1\n");
        metrics.ShouldContain("gateway_requests_total{route=\"fallback:sonnet\"} 22\n");
    }

    private Task<HttpResponseMessage> PostAsync(string model, string text) => _node.PostChatAsync(Chat.Request(model, text));

    private async Task<JsonObject> BreakerAsync(string model)
    {
        using var response = await _node.Http.GetAsync($"/admin/breakers/{model}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<long> CallsAsync(string model)
    {
        var models = await _node.Http.GetFromJsonAsync<JsonArray>("/admin/models");
        return (long)models!.Single(m => (string?)m!["name"] == model)!["calls"]!;
    }
}
