using AgentGateway.Contracts.Sessions;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Pipeline;

/// <summary>How an admitted call ended.</summary>
public enum CallOutcome
{
    /// <summary>A model answered (its whole answer, or its whole stream).</summary>
    Answered,

    /// <summary>The answer cache answered (before any model call, or after every route failed): no model tokens.</summary>
    Cached,

    /// <summary>No route could answer and nothing was cached: the deterministic fallback text.</summary>
    Fallback,

    /// <summary>The live cut-off: the stream's next chunk did not fit in the session's budget (or the session was ended).</summary>
    CutOff,

    /// <summary>The model's stream broke off after it had begun.</summary>
    FailedMidStream,

    /// <summary>The client went away (or cancelled) before the answer ended.</summary>
    Cancelled,
}

/// <summary>
/// What an admitted call produced, for the transport to frame: the answer (or the part streamed before it ended), the
/// route and model that gave it, the usage it was settled with, and, for a stream, whether chunks went out.
/// </summary>
public sealed record CallResult(
    CallOutcome Outcome,
    string Route,
    string Model,
    string Text,
    IReadOnlyList<FunctionCallContent> ToolCalls,
    string FinishReason,
    long InputTokens,
    long OutputTokens)
{
    /// <summary>For <see cref="CallOutcome.CutOff"/>: why the stream had to stop.</summary>
    public TripReason CutOffReason { get; init; }

    /// <summary>For <see cref="CallOutcome.Fallback"/> and <see cref="CallOutcome.Cached"/> after a failure: the last upstream status.</summary>
    public int? UpstreamStatus { get; init; }

    /// <summary>For <see cref="CallOutcome.FailedMidStream"/>: what broke it.</summary>
    public Exception? Failure { get; init; }

    /// <summary>Whether a stream began (its route and chunks reached the transport's sink).</summary>
    public bool Streamed { get; init; }

    /// <summary>Whether the answer is text the gateway gave itself (a cached answer or the fallback), not a model's.</summary>
    public bool IsGatewayAnswer => Outcome is CallOutcome.Cached or CallOutcome.Fallback;
}

/// <summary>Where a streamed call's chunks go: each transport frames them (SSE events, WebSocket tokens).</summary>
public interface ICallSink
{
    /// <summary>A model stream has begun on <paramref name="route"/>: nothing has been sent yet.</summary>
    ValueTask StartAsync(string route, string model, CancellationToken cancellationToken);

    /// <summary>A chunk the session has paid for: pass it on (waiting while the client is slow is the sink's right).</summary>
    ValueTask WriteAsync(string? text, IReadOnlyList<FunctionCallContent>? toolCalls, CancellationToken cancellationToken);
}
