using System.Net;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// With no keys configured, admin endpoints and <c>/v1</c> answer loopback callers only. A non-loopback caller is hard
/// to produce on this machine, so these use the in-memory test server, whose requests carry no remote address at all.
/// </summary>
public sealed class AdminAccessTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("GET", "/admin/models")]
    [InlineData("GET", "/admin/sessions/some-session")]
    [InlineData("POST", "/admin/sessions/some-session/resume")]
    [InlineData("POST", "/admin/sessions/some-session/end")]
    [InlineData("GET", "/admin/sessions?status=tripped")]
    public async Task Admin_CallerWithoutLoopbackAddress_Returns403AdminForbidden(string method, string path)
    {
        using var client = _factory.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "admin-forbidden");
        ((string?)problem["detail"]).ShouldBe(
            "Admin endpoints answer loopback callers only until admin authentication is configured (caller: unknown).");
    }

    [Fact]
    public async Task ChatCompletions_CallerWithoutLoopbackAddressAndNoTenantKeys_Returns403ApiForbidden()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostAsync(
            "/v1/chat/completions",
            new StringContent(Chat.Request("haiku", "Say hello.").ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api-forbidden");
        ((string?)problem["detail"]).ShouldBe("/v1 answers loopback callers only until tenant API keys are configured (caller: unknown).");
    }

    [Fact]
    public async Task Models_CallerWithoutLoopbackAddressAndNoTenantKeys_Returns403ApiForbidden()
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync("/v1/models");

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "api-forbidden");
    }

    [Fact]
    public async Task Health_CallerWithoutLoopbackAddress_StillServed()
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync("/health");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
