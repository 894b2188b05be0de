using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentGateway.TestSupport;

/// <summary>
/// An independent check of a SigV4 <c>Authorization</c> header (written from the AWS specification, not with the SDK):
/// its shape, and the signature recomputed from the request as the server received it.
/// </summary>
public static partial class SigV4
{
    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<akid>[A-Z0-9]+)/(?<date>\d{8})/(?<region>[a-z0-9-]+)/(?<service>[a-z0-9]+)/aws4_request, SignedHeaders=(?<signed>[a-z0-9;-]+), Signature=(?<signature>[0-9a-f]{64})$")]
    public static partial Regex AuthorizationShape();

    /// <summary>The signature the request should carry, given the secret key.</summary>
    public static string ExpectedSignature(ReceivedRequest request, string secretKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        var match = AuthorizationShape().Match(request.Headers["Authorization"]);
        var signed = match.Groups["signed"].Value;
        var amzDate = request.Headers["X-Amz-Date"];
        var canonicalHeaders = string.Concat(signed.Split(';').Select(h => h + ":" + request.Headers[h].Trim() + "\n"));
        var canonical = string.Join('\n', request.Method, request.Path, string.Empty, canonicalHeaders, signed, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(request.Body))));
        var scope = $"{match.Groups["date"].Value}/{match.Groups["region"].Value}/{match.Groups["service"].Value}/aws4_request";
        var toSign = string.Join('\n', "AWS4-HMAC-SHA256", amzDate, scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))));
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), match.Groups["date"].Value);
        key = Hmac(key, match.Groups["region"].Value);
        key = Hmac(key, match.Groups["service"].Value);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, toSign));
    }

    public static DateTime ParseAmzDate(string value) =>
        DateTime.ParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
