using System.Buffers.Text;
using System.Text;

namespace AgentGateway.Silo.Auth;

/// <summary>Where a request carries its API key.</summary>
public static class Credentials
{
    /// <summary>The WebSocket subprotocol a browser offers beside <see cref="BearerProtocolPrefix"/>; the node selects it.</summary>
    public const string WebSocketProtocol = "agent-gateway";

    /// <summary>
    /// Browsers cannot set headers on a WebSocket: they offer the key as a subprotocol
    /// <c>agent-gateway.bearer.{base64url(key)}</c> next to <see cref="WebSocketProtocol"/>, which the node selects (the
    /// key is never echoed). Headers are logged less often than URLs, which is why the key is not a query parameter.
    /// </summary>
    public const string BearerProtocolPrefix = "agent-gateway.bearer.";

    /// <summary>The <c>Authorization: Bearer</c> key, or null when the header is absent or not a bearer token.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && header.Length > scheme.Length
            ? header[scheme.Length..].Trim()
            : null;
    }

    /// <summary>The key offered as a WebSocket subprotocol (see <see cref="BearerProtocolPrefix"/>), or null.</summary>
    public static string? WebSocketProtocolToken(HttpRequest request)
    {
        foreach (var value in request.Headers.SecWebSocketProtocol)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (part.StartsWith(BearerProtocolPrefix, StringComparison.Ordinal))
                {
                    return DecodeBase64Url(part.AsSpan(BearerProtocolPrefix.Length));
                }
            }
        }

        return null;
    }

    /// <summary>The subprotocol value that carries <paramref name="key"/> (for clients and tests).</summary>
    public static string ToWebSocketProtocol(string key) => BearerProtocolPrefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    private static string? DecodeBase64Url(ReadOnlySpan<char> encoded)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(encoded));
        }
        catch (FormatException)
        {
            // Not a key we could have issued; it is then "a wrong key", not a malformed request.
            return string.Empty;
        }
    }
}
