using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Routing;

/// <summary>Which route answered a request: the value of the <c>X-Gateway-Route</c> header and the metric tag.</summary>
public static class Routes
{
    public const string Primary = "primary";
    public const string Deterministic = "deterministic";
    public const string Cache = "cache";

    public static string Fallback(string model) => "fallback:" + model;

    public static string Region(string region) => "region:" + region;
}

/// <summary>The outcome of routing one non-streamed call.</summary>
/// <param name="Response">The model's answer; null when every route failed.</param>
/// <param name="Route">The route that answered (<see cref="Routes"/>), or <c>deterministic</c>.</param>
/// <param name="Model">The model that answered; null when none did.</param>
/// <param name="UpstreamStatus">When none answered: the last failure's status.</param>
public sealed record RouteResult(ChatResponse? Response, string Route, string? Model, int? UpstreamStatus);
