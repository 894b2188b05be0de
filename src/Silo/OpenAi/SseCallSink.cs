using AgentGateway.Contracts.Sessions;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Pipeline;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.OpenAi;

/// <summary>
/// A chat completion streamed as Server-Sent Events (OpenAI's <c>chat.completion.chunk</c> framing): the pipeline's
/// metered chunks as they come, then the end (finish reason, a cut-off's note, usage when asked for, <c>[DONE]</c>).
/// </summary>
public sealed class SseCallSink(HttpResponse response, string id, long created, bool includeUsage) : ICallSink
{
    private string _model = string.Empty;
    private bool _first = true;
    private int _toolCalls;

    public ValueTask StartAsync(string route, string model, CancellationToken cancellationToken)
    {
        _model = model;
        response.Headers[GatewayHeaders.Route] = route;
        Start(response);
        return ValueTask.CompletedTask;
    }

    public async ValueTask WriteAsync(string? text, IReadOnlyList<FunctionCallContent>? toolCalls, CancellationToken cancellationToken)
    {
        ChatCompletionWriter.WriteChunk(
            response.BodyWriter,
            new CompletionPayload(id, created, _model, text, toolCalls, null, null, null),
            role: _first,
            firstToolCallIndex: _toolCalls);
        _toolCalls += toolCalls?.Count ?? 0;
        _first = false;
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The stream's last events: the finish reason (with the gateway's note when it was cut off), usage when the client
    /// asked for it, then <c>[DONE]</c>; a stream that broke off ends with an error event instead.
    /// </summary>
    public async Task EndAsync(CallResult result, string fallbackMessage)
    {
        if (result.Outcome == CallOutcome.FailedMidStream)
        {
            WriteError(result.Failure);
        }
        else
        {
            var cutOff = result.Outcome == CallOutcome.CutOff ? (result.CutOffReason.ToWireName()!, fallbackMessage) : ((string, string)?)null;
            ChatCompletionWriter.WriteChunk(
                response.BodyWriter,
                new CompletionPayload(id, created, _model, null, null, result.FinishReason, null, null),
                role: _first,
                cutOff: cutOff);
            WriteUsage(result.InputTokens, result.OutputTokens);
            ChatCompletionWriter.WriteDone(response.BodyWriter);
        }

        await response.BodyWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>An answer the gateway gives itself (cached, or the fallback) as a whole stream: one chunk of text, the end.</summary>
    public async Task WriteTextAnswerAsync(string route, string model, string text, CancellationToken cancellationToken)
    {
        response.Headers[GatewayHeaders.Route] = route;
        Start(response);
        var payload = new CompletionPayload(id, created, model, text, null, "stop", 0, 0);
        ChatCompletionWriter.WriteChunk(response.BodyWriter, payload with { FinishReason = null }, role: true);
        ChatCompletionWriter.WriteChunk(response.BodyWriter, payload with { Text = null }, role: false);
        _model = model;
        WriteUsage(0, 0);
        ChatCompletionWriter.WriteDone(response.BodyWriter);
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void WriteUsage(long input, long output)
    {
        if (includeUsage)
        {
            ChatCompletionWriter.WriteChunk(
                response.BodyWriter,
                new CompletionPayload(id, created, _model, null, null, null, input, output),
                role: false,
                usageOnly: true);
        }
    }

    private void WriteError(Exception? failure)
    {
        var status = failure is Providers.Models.ModelCallException failed ? failed.StatusCode : StatusCodes.Status502BadGateway;
        ChatCompletionWriter.WriteStreamError(response.BodyWriter, status);
        ChatCompletionWriter.WriteDone(response.BodyWriter);
    }

    private static void Start(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }
}
