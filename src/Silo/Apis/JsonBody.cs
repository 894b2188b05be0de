using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentGateway.Silo.Problems;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// Reads an endpoint's JSON body, and answers every way a body can be bad as a 4xx problem: not JSON, too large,
/// or framed wrong (a malformed chunked body), never as a 500.
/// </summary>
public static class JsonBody
{
    /// <summary>
    /// The body as <typeparamref name="T"/> (null when it is JSON null), or the problem to answer with. Bodies larger
    /// than <paramref name="maxBytes"/> are refused with 413, whether they say so up front or not.
    /// </summary>
    public static async ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, long maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            return (default, TooLarge(maxBytes));
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        try
        {
            return (await JsonSerializer.DeserializeAsync(request.Body, type, request.HttpContext.RequestAborted).ConfigureAwait(false), null);
        }
        catch (JsonException ex)
        {
            return (default, GatewayProblem.InvalidJson.ToResult(ex.Message));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, TooLarge(maxBytes));
        }
        catch (BadHttpRequestException ex)
        {
            return (default, GatewayProblem.BadRequest.ToResult(ex.Message));
        }
        catch (IOException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports some framing errors of the body (a chunk size that overflows, say) as a plain IOException
            // rather than a BadHttpRequestException: the body is malformed, which is the client's error.
            return (default, GatewayProblem.BadRequest.ToResult("The request body is malformed (its chunked framing could not be read)."));
        }
    }

    private static ProblemHttpResult TooLarge(long maxBytes) => GatewayProblem.BodyTooLarge.ToResult(
        $"The body is over the limit of {maxBytes} bytes (Gateway:MaxRequestBodyBytes).");
}
