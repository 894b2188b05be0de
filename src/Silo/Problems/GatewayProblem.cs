using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AgentGateway.Silo.Problems;

/// <summary>
/// Every error the gateway answers with: an HTTP status, a stable machine-readable <c>type</c>
/// (documented in docs/problems.md) and a title. Bodies are <c>application/problem+json</c> that also
/// carry an OpenAI-style <c>error</c> object, so OpenAI client libraries show the message too.
/// </summary>
public sealed record GatewayProblem(int Status, string Code, string Title)
{
    public const string TypePrefix = "urn:agent-gateway:problem:";

    public static readonly GatewayProblem InvalidJson = new(400, "invalid-json", "The request body is not valid JSON for this endpoint.");
    public static readonly GatewayProblem MissingModel = new(400, "missing-model", "The request names no model.");
    public static readonly GatewayProblem MissingMessages = new(400, "missing-messages", "The request has no messages.");
    public static readonly GatewayProblem InvalidMessage = new(400, "invalid-message", "A message is malformed.");
    public static readonly GatewayProblem InvalidTool = new(400, "invalid-tool", "A tool definition is malformed.");
    public static readonly GatewayProblem InvalidFaults = new(400, "invalid-faults", "The faults cannot be injected.");
    public static readonly GatewayProblem InvalidSessionId = new(400, "invalid-session-id", "The session id is not valid.");
    public static readonly GatewayProblem WebSocketRequired = new(400, "websocket-required", "The endpoint needs a WebSocket upgrade.");
    public static readonly GatewayProblem UnknownModel = new(404, "unknown-model", "The model is not served by this gateway.");
    public static readonly GatewayProblem SessionNotFound = new(404, "session-not-found", "No such session.");
    public static readonly GatewayProblem NotFound = new(404, "not-found", "No such resource.");
    public static readonly GatewayProblem MethodNotAllowed = new(405, "method-not-allowed", "The method is not allowed on this resource.");
    public static readonly GatewayProblem BodyTooLarge = new(413, "body-too-large", "The request body is over the size limit.");
    public static readonly GatewayProblem UnsupportedMediaType = new(415, "unsupported-media-type", "The request body must be application/json.");
    public static readonly GatewayProblem RateLimited = new(429, "rate-limited", "The tenant is over its rate limit.");
    public static readonly GatewayProblem SessionBusy = new(429, "session-busy", "The session was written elsewhere at the same moment; retry.");
    public static readonly GatewayProblem AdminForbidden = new(403, "admin-forbidden", "The caller may not use admin endpoints.");
    public static readonly GatewayProblem Unauthorized = new(401, "unauthorized", "An API key is required.");
    public static readonly GatewayProblem InvalidApiKey = new(401, "invalid-api-key", "The API key is not valid.");
    public static readonly GatewayProblem ApiForbidden = new(403, "api-forbidden", "The caller may not use the /v1 API.");
    public static readonly GatewayProblem SessionForbidden = new(403, "session-forbidden", "The session belongs to another tenant.");
    public static readonly GatewayProblem SessionEnded = new(409, "session-ended", "The session has been ended.");
    public static readonly GatewayProblem InvalidQuery = new(400, "invalid-query", "A query parameter is not valid.");
    public static readonly GatewayProblem InvalidNote = new(400, "invalid-note", "The operator note is not valid.");
    public static readonly GatewayProblem BadRequest = new(400, "bad-request", "The request is malformed.");
    public static readonly GatewayProblem Internal = new(500, "internal-error", "The gateway failed to handle the request.");
    public static readonly GatewayProblem Unavailable = new(503, "unavailable", "The gateway cannot serve the request right now.");

    public string Type => TypePrefix + Code;

    /// <summary>The problem as a typed result with <paramref name="detail"/> saying what exactly was wrong.</summary>
    public ProblemHttpResult ToResult(string detail, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["error"] = new OpenAiError(detail, Status >= 500 ? "server_error" : "invalid_request_error", Code),
        };
        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                all[key] = value;
            }
        }

        return TypedResults.Problem(new ProblemDetails
        {
            Status = Status,
            Type = Type,
            Title = Title,
            Detail = detail,
            Extensions = all,
        });
    }

    /// <summary>The problem for a bare error status set by the framework (routing, exceptions) with no body of its own.</summary>
    public static GatewayProblem? ForStatus(int status) => status switch
    {
        400 => BadRequest,
        404 => NotFound,
        405 => MethodNotAllowed,
        413 => BodyTooLarge,
        415 => UnsupportedMediaType,
        503 => Unavailable,
        >= 500 => Internal,
        >= 400 => new GatewayProblem(status, $"http-{status}", Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)),
        _ => null,
    };

    /// <summary>The shape OpenAI's clients read from an error body.</summary>
    public sealed record OpenAiError(string Message, string Type, string Code);
}
