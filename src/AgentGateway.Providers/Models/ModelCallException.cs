namespace AgentGateway.Providers.Models;

/// <summary>A model provider failed the call with an HTTP-like status (5xx, 429 throttling, timeouts as 504).</summary>
public sealed class ModelCallException(string model, int statusCode, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Model { get; } = model;

    public int StatusCode { get; } = statusCode;

    /// <summary>Throttling and server-side errors are worth another try; client errors are not.</summary>
    public bool IsTransient => StatusCode is 408 or 429 || StatusCode >= 500;
}
