using System.Text;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Silo.OpenAi;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Streaming;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Pipeline;

/// <summary>How a metered stream ended (before it is settled).</summary>
public enum StreamEnd
{
    Completed,
    CutOff,
    Cancelled,
    Failed,
}

/// <summary>
/// One model stream pumped into a transport's sink, every chunk paid for from the session's grants first (a
/// <see cref="TokenMeter"/>): what it passed on, the usage the model reported, and how it ended. Settlement is the
/// caller's.
/// </summary>
internal sealed class MeteredStream(RoutedStream stream, TokenMeter meter)
{
    private readonly StringBuilder _text = new();
    private List<FunctionCallContent>? _toolCalls;
    private long? _input;
    private long? _output;
    private string? _finish;

    public TokenMeter Meter => meter;

    public string Text => _text.ToString();

    public IReadOnlyList<FunctionCallContent> ToolCalls => (IReadOnlyList<FunctionCallContent>?)_toolCalls ?? [];

    /// <summary>The finish reason the model gave (or what its content implies).</summary>
    public string FinishReason => _finish ?? ChatCompletionWriter.FinishReasonOf(null, _toolCalls is { Count: > 0 });

    /// <summary>
    /// What to settle: the model's own usage where it reported it, else the meter's counts; a cut-off settles the
    /// meter's counts (the refused chunk included), since the upstream call was cancelled under it.
    /// </summary>
    public CallSettlement Settlement(StreamEnd end) =>
        end == StreamEnd.CutOff ? meter.Settlement(null, null) : meter.Settlement(_input, _output);

    /// <summary>Pumps the stream into <paramref name="sink"/> until it ends; a failure is returned in <paramref name="failure"/>, never thrown.</summary>
    public async Task<(StreamEnd End, Exception? Failure)> PumpAsync(ICallSink sink, CancellationToken cancellationToken)
    {
        try
        {
            var more = stream.HasFirst;
            while (more)
            {
                var update = stream.Updates.Current;
                var part = StreamedUpdate.Read(update);
                _input = part.InputTokens ?? _input;
                _output = part.OutputTokens ?? _output;
                if (part.HasContent)
                {
                    if (!await meter.TryPassAsync(part.Tokens, cancellationToken).ConfigureAwait(false))
                    {
                        return (StreamEnd.CutOff, null);
                    }

                    await sink.WriteAsync(part.Text, part.ToolCalls, cancellationToken).ConfigureAwait(false);
                    _text.Append(part.Text);
                    if (part.ToolCalls is { } calls)
                    {
                        (_toolCalls ??= []).AddRange(calls);
                    }
                }

                if (update.FinishReason is { } reason)
                {
                    _finish = ChatCompletionWriter.FinishReasonOf(reason, _toolCalls is { Count: > 0 });
                }

                more = await stream.Updates.MoveNextAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (StreamEnd.Cancelled, null);
        }
        catch (Exception ex)
        {
            return (StreamEnd.Failed, ex);
        }

        return (StreamEnd.Completed, null);
    }
}
