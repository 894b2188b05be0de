using System.Text.Json.Nodes;

namespace AgentGateway.Silo.Tests.Infrastructure;

/// <summary>Reads an SSE body line by line as it arrives, holding the server to OpenAI's framing.</summary>
public static class ServerSentEvents
{
    /// <summary>
    /// The <c>data</c> of every event, in order, asserting each event is exactly one <c>data: </c> line
    /// followed by a blank line.
    /// </summary>
    public static async Task<List<string>> ReadDataAsync(HttpResponseMessage response)
    {
        var data = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            line.ShouldStartWith("data: ");
            data.Add(line["data: ".Length..]);
            (await reader.ReadLineAsync()).ShouldBe(string.Empty);
        }

        return data;
    }

    /// <summary>The events before <c>[DONE]</c> as chunk objects, asserting <c>[DONE]</c> is the last event.</summary>
    public static async Task<List<JsonObject>> ReadChunksAsync(HttpResponseMessage response)
    {
        var data = await ReadDataAsync(response);
        data.ShouldNotBeEmpty();
        data[^1].ShouldBe("[DONE]");
        data.Count(d => d == "[DONE]").ShouldBe(1);
        var chunks = data.Take(data.Count - 1).Select(d => JsonNode.Parse(d)!.AsObject()).ToList();
        chunks.ShouldAllBe(c => (string?)c["object"] == "chat.completion.chunk");
        chunks.Select(c => (string?)c["id"]).Distinct().ShouldHaveSingleItem().ShouldNotBeNull();
        return chunks;
    }

    public static JsonObject? Delta(this JsonObject chunk)
        => chunk["choices"]!.AsArray().SingleOrDefault()?["delta"]?.AsObject();

    public static string? FinishReasonOfChunk(this JsonObject chunk)
        => (string?)chunk["choices"]!.AsArray().SingleOrDefault()?["finish_reason"];
}
