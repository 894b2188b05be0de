using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// A chunked body whose framing cannot be read (a chunk size that overflows: Kestrel reports it as an IOException, not a
/// BadHttpRequestException) is the client's error on every endpoint that reads a body: 400 problem+json, never a 500.
/// Sent over a raw socket, because no HTTP client writes such a body.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MalformedBodyTests(GatewayFixture gateway)
{
    [Theory]
    [InlineData("POST", "/v1/chat/completions")]
    [InlineData("POST", "/admin/sessions/{session}/resume")]
    [InlineData("POST", "/admin/sessions/{session}/end")]
    [InlineData("PUT", "/admin/models/haiku/faults")]
    public async Task OverflowingChunkSize_400BadRequestProblem_AndTheNodeServesOn(string method, string path)
    {
        var sessionId = GatewayFixture.NewSessionId();
        using (var created = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "Say hello.")))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var (status, contentType, body) = await SendRawAsync(method, path.Replace("{session}", sessionId, StringComparison.Ordinal));

        status.ShouldBe(400);
        contentType.ShouldBe("application/problem+json");
        var problem = JsonNode.Parse(body)!;
        ((string?)problem["type"]).ShouldBe(Infrastructure.Problems.TypePrefix + "bad-request");
        ((string?)problem["error"]!["code"]).ShouldBe("bad-request");
        using var after = await gateway.PostChatAsync(sessionId, Chat.Request("haiku", "Say hello again."));
        after.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>Writes the request with a chunk size of 18 hex digits (over 2^64) and reads the answer's status, type and body.</summary>
    private async Task<(int Status, string? ContentType, string Body)> SendRawAsync(string method, string path)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
        await using var stream = client.GetStream();
        var request =
            $"{method} {path} HTTP/1.1\r\nHost: {gateway.BaseAddress.Authority}\r\nContent-Type: application/json\r\n" +
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{\"note\":\"x\"}\r\n0\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();
        var head = answer[..answer.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var contentType = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p[0].Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            .Select(p => p[1].Trim().Split(';')[0]).FirstOrDefault();
        var body = answer[(head.Length + 4)..];
        if (lines.Any(l => l.StartsWith("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            body = Unchunk(body);
        }

        return (status, contentType, body);
    }

    private static string Unchunk(string chunked)
    {
        var text = new StringBuilder();
        var at = 0;
        while (true)
        {
            var end = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[at..end], 16);
            if (size == 0)
            {
                return text.ToString();
            }

            text.Append(chunked, end + 2, size);
            at = end + 2 + size + 2;
        }
    }
}
