using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;

namespace AgentGateway.Providers.Models;

/// <summary>
/// The embedded default model: answers without any external service, scripted by directives in the
/// latest user message (see <see cref="SimDirectives"/>), and counts every call it receives.
/// </summary>
public sealed class SimulatedChatClient(string model, TimeProvider time) : IChatClient
{
    public const string DefaultToolName = "lookup";

    /// <summary>Output tokens a simulated tool call reports.</summary>
    public const int ToolCallTokens = 8;

    private static readonly string[] Vocabulary =
    [
        "the", "agent", "gateway", "keeps", "every", "session", "inside", "its", "budget", "and",
        "each", "model", "call", "is", "counted", "once",
    ];

    private readonly ChatClientMetadata _metadata = new("simulated", null, model);
    private long _calls;
    private long _failures;
    private long _cancellations;
    private SimulatedFaults? _faults;

    public string Model { get; } = model;

    /// <summary>Calls received (streamed or not), including those that then failed or were cancelled.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Calls whose caller cancelled them while they ran, or streams abandoned before their end (e.g. cut off mid-way).</summary>
    public long Cancellations => Interlocked.Read(ref _cancellations);

    /// <summary>Run-time faults (null: none), applied to every call on top of the message's directives.</summary>
    public SimulatedFaults? Faults
    {
        get => Volatile.Read(ref _faults);
        set => Volatile.Write(ref _faults, value);
    }

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var call = Begin(messages, options);
        await DelayAndFailAsync(call.Directives, cancellationToken).ConfigureAwait(false);

        var response = call.Directives.Loop
            ? new ChatResponse(new ChatMessage(ChatRole.Assistant, [call.ToolCall()])) { FinishReason = ChatFinishReason.ToolCalls }
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, call.Text())) { FinishReason = ChatFinishReason.Stop };
        response.ModelId = Model;
        response.ResponseId = call.Id;
        response.Usage = call.Usage();
        return response;
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var call = Begin(messages, options);
        await DelayAndFailAsync(call.Directives, cancellationToken).ConfigureAwait(false);

        // A stream its consumer abandons (disposes before the end, e.g. a live cut-off) counts as cancelled.
        var finished = false;
        try
        {
            if (call.Directives.Loop)
            {
                yield return call.Update([call.ToolCall()]);
            }
            else
            {
                var pace = call.Directives.PaceMilliseconds is > 0 and var ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero;
                var count = call.WordCount;
                for (var i = 0; i < count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (i > 0 && pace > TimeSpan.Zero)
                    {
                        await Task.Delay(pace, time, cancellationToken).ConfigureAwait(false);
                    }

                    yield return call.Update([new TextContent(i == 0 ? call.Word(0) : " " + call.Word(i))]);
                }
            }

            var last = call.Update([new UsageContent(call.Usage())]);
            last.FinishReason = call.Directives.Loop ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop;
            finished = true;
            yield return last;
        }
        finally
        {
            if (!finished)
            {
                Interlocked.Increment(ref _cancellations);
            }
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    private Call Begin(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var number = Interlocked.Increment(ref _calls);
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        string? lastUser = null;
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].Role == ChatRole.User)
            {
                lastUser = list[i].Text;
                break;
            }
        }

        var toolName = options?.Tools is { Count: > 0 } tools ? tools[0].Name : DefaultToolName;
        var directives = SimDirectives.Parse(lastUser, Model);
        if (Faults is { } faults)
        {
            directives = faults.Apply(directives, number);
        }

        return new Call(this, number, directives, TokenEstimator.EstimateInput(list), toolName);
    }

    /// <summary>Plays the latency, stall and error directives; a cancellation while waiting is counted.</summary>
    private async ValueTask DelayAndFailAsync(SimDirectives directives, CancellationToken cancellationToken)
    {
        var wait = directives.Stall ? Timeout.InfiniteTimeSpan
            : directives.LatencyMilliseconds is > 0 and var ms ? TimeSpan.FromMilliseconds(ms)
            : TimeSpan.Zero;
        if (wait != TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancellations);
                throw;
            }
        }

        if (directives.ErrorStatus is { } status)
        {
            Interlocked.Increment(ref _failures);
            throw new ModelCallException(Model, status, $"Simulated model '{Model}' failed with status {status}.");
        }
    }

    private sealed class Call(SimulatedChatClient owner, long number, SimDirectives directives, int inputTokens, string toolName)
    {
        private readonly string[] _defaultAnswer = ["This", "is", "a", "simulated", "answer", "from", owner.Model + "."];

        public SimDirectives Directives { get; } = directives;

        public string Id { get; } = $"sim-{owner.Model}-{number}";

        /// <summary>Words of the answer; each is one output token.</summary>
        public int WordCount => Directives.Tokens ?? _defaultAnswer.Length;

        public string Word(int index) => Directives.Tokens is null ? _defaultAnswer[index] : Vocabulary[index % Vocabulary.Length];

        public FunctionCallContent ToolCall() => new(
            $"call_{owner.Model}_{number}",
            toolName,
            new Dictionary<string, object?> { ["query"] = $"step {number}" });

        public string Text()
        {
            var text = new StringBuilder(WordCount * 8);
            for (var i = 0; i < WordCount; i++)
            {
                if (i > 0)
                {
                    text.Append(' ');
                }

                text.Append(Word(i));
            }

            return text.ToString();
        }

        public UsageDetails Usage()
        {
            long output = Directives.Loop ? ToolCallTokens : WordCount;
            return new UsageDetails { InputTokenCount = inputTokens, OutputTokenCount = output, TotalTokenCount = inputTokens + output };
        }

        public ChatResponseUpdate Update(IList<AIContent> contents) => new(ChatRole.Assistant, contents)
        {
            ModelId = owner.Model,
            ResponseId = Id,
            MessageId = Id,
        };
    }
}
