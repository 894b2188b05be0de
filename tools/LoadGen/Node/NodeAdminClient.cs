using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace AgentGateway.LoadGen.Node;

/// <summary>Reads the node's <c>GET /admin/node</c> (loopback only): activations, GC heap, working set, threads.</summary>
internal sealed class NodeAdminClient(HttpClient http, Uri baseUrl)
{
    /// <summary>The node's figures, or null (with the reason in <paramref name="error"/>) when it did not answer.</summary>
    /// <param name="fullGc">Ask the node for a full blocking collection first, so the heap counts live objects only.</param>
    public async Task<(JsonObject? Node, string? Error)> GetAsync(bool fullGc, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(baseUrl, fullGc ? "/admin/node?gc=true" : "/admin/node"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"GET /admin/node: HTTP {(int)response.StatusCode}");
            }

            return (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return (null, $"GET /admin/node: {ex.GetType().Name}: {ex.Message}");
        }
    }

    public static long? Long(JsonObject? node, string path)
    {
        JsonNode? current = node;
        foreach (var part in path.Split('.'))
        {
            current = current?[part];
        }

        return current is JsonValue value && value.TryGetValue<long>(out var result) ? result : null;
    }
}
