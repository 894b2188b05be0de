using AgentGateway.Silo.Auth;

namespace AgentGateway.Silo.Tests.Auth;

/// <summary>The key lookup's behaviour (its constant time comes from hashing and FixedTimeEquals over every entry; not timed here).</summary>
public sealed class ApiKeyRingTests
{
    private const string AdminKey = "admin-0123456789abcdefghijklmn";
    private const string AcmeKey = "acme-0123456789abcdefghijklmno";
    private const string GlobexKey = "globex-0123456789abcdefghijklm";

    private static readonly ApiKeyRing Ring = new(new AuthOptions
    {
        AdminApiKey = AdminKey,
        Tenants = new(StringComparer.Ordinal)
        {
            ["acme"] = new TenantOptions { ApiKey = AcmeKey },
            ["globex"] = new TenantOptions { ApiKey = GlobexKey },
        },
    });

    [Fact]
    public void Find_ExactKeys_TheirCallers()
    {
        Ring.Find(AdminKey).ShouldBe(GatewayCaller.Admin);
        Ring.Find(AcmeKey).ShouldBe(GatewayCaller.ForTenant("acme"));
        Ring.Find(GlobexKey).ShouldBe(GatewayCaller.ForTenant("globex"));
        Ring.HasAdminKey.ShouldBeTrue();
        Ring.HasTenants.ShouldBeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("acme")]
    [InlineData("acme-0123456789abcdefghijklmn")] // one character short
    [InlineData("acme-0123456789abcdefghijklmnop")] // one character more
    [InlineData("ACME-0123456789ABCDEFGHIJKLMNO")] // another case
    [InlineData("acme-0123456789abcdefghijklmnx")] // last character differs
    [InlineData(" acme-0123456789abcdefghijklmno")]
    public void Find_NearMisses_Null(string presented) => Ring.Find(presented).ShouldBeNull();

    [Fact]
    public void Find_NoKeysConfigured_NullForAnything()
    {
        var empty = new ApiKeyRing(new AuthOptions());

        empty.Find(AcmeKey).ShouldBeNull();
        empty.Find(string.Empty).ShouldBeNull();
        empty.HasAdminKey.ShouldBeFalse();
        empty.HasTenants.ShouldBeFalse();
    }

    [Fact]
    public void Find_EmptyAdminKeySetting_CountsAsNone()
    {
        var ring = new ApiKeyRing(new AuthOptions { AdminApiKey = string.Empty });

        ring.HasAdminKey.ShouldBeFalse();
        ring.Find(string.Empty).ShouldBeNull();
    }

    [Fact]
    public void WebSocketProtocol_RoundTrip_TheKeyBackFromTheOfferedProtocols()
    {
        const string key = "key+/=with?odd&chars~0123456789";
        var protocol = Credentials.ToWebSocketProtocol(key);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers.SecWebSocketProtocol = $"{Credentials.WebSocketProtocol}, {protocol}";

        protocol.ShouldStartWith(Credentials.BearerProtocolPrefix);
        protocol[Credentials.BearerProtocolPrefix.Length..].ShouldAllBe(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_');
        Credentials.WebSocketProtocolToken(context.Request).ShouldBe(key);
    }

    [Fact]
    public void WebSocketProtocolToken_NotBase64Url_EmptyKeyNotAnError()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers.SecWebSocketProtocol = Credentials.BearerProtocolPrefix + "***";

        Credentials.WebSocketProtocolToken(context.Request).ShouldBe(string.Empty);
    }
}
