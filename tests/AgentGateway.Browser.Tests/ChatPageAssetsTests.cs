using AgentGateway.Browser.Tests.Infrastructure;

namespace AgentGateway.Browser.Tests;

/// <summary>The page's files as the node serves them (no browser): content types and revalidation.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ChatPageAssetsTests(BrowserFixture browser)
{
    [Theory]
    [InlineData("/", "text/html", "<title>Agent Gateway")]
    [InlineData("/chat.js", "text/javascript", "'use strict';")]
    [InlineData("/chat.css", "text/css", ".banner")]
    public async Task Get_PageFile_ServedWithContentTypeAndNoCache(string path, string mediaType, string excerpt)
    {
        using var http = new HttpClient { BaseAddress = browser.BaseAddress };

        using var response = await http.GetAsync(path);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe(mediaType);
        response.Content.Headers.ContentType.CharSet.ShouldBe("utf-8");
        response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        (await response.Content.ReadAsStringAsync()).ShouldContain(excerpt);
    }

    [Fact]
    public async Task Get_Page_ContentSecurityPolicyAllowsOnlyTheNodeItself()
    {
        using var http = new HttpClient { BaseAddress = browser.BaseAddress };

        using var response = await http.GetAsync("/");

        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        policy.ShouldContain("default-src 'none'");
        policy.ShouldContain("script-src 'self'");
        policy.ShouldContain("connect-src 'self'");
    }
}
