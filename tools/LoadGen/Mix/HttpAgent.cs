using System.Diagnostics;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentGateway.LoadGen.Mix;

/// <summary>What one chat completion (plain or streamed) answered, as far as the agent cares.</summary>
internal sealed record CallAnswer(string? Route, string? Trip, IReadOnlyList<ToolCall> ToolCalls, string Text, string? FinishReason);

/// <summary>A tool call the model asked for.</summary>
internal sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>
/// An agent on <c>POST /v1/chat/completions</c>, non-streamed (REST) or streamed (SSE): it sends the conversation,
/// answers each tool call with a stub result and sends the longer conversation again, as an agent framework does.
/// </summary>
/// <remarks>
/// A request that fails on the wire (refused, reset, cut short, timed out) or gets 429/502/503/504 is counted under
/// its kind and sent again unchanged, up to <see cref="MixOptions.Retries"/> times with a doubling pause: the same
/// conversation again is a continuation of the same task for the gateway, so a retry can never reset its loop count.
/// </remarks>
internal sealed class HttpAgent(HttpClient http, MixOptions options, MixStats stats)
{
    public async Task<TaskRecord> RunAsync(AgentPlan plan, CancellationToken ct)
    {
        var transport = plan.Transport;
        var messages = new JsonArray { Message("user", plan.Text) };
        var answers = 0;
        var retries = 0;
        var started = Stopwatch.GetTimestamp();
        TaskRecord Finish(string outcome, string? trip = null)
            => new(plan.SessionId, transport, plan.Kind, outcome, answers, trip, retries, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3));

        // A runaway agent answers every tool call until the gateway stops it; the cap only ends a task the gateway
        // never stopped (a governance failure, reported as such).
        var maxCalls = plan.Runaway ? (options.MaxLoops * 2) + 4 : plan.ToolRoundTrip ? 2 : 1;
        for (var call = 0; call < maxCalls; call++)
        {
            var body = Body(messages, transport == Transport.Sse);
            CallAnswer? answer = null;
            for (var attempt = 0; answer is null; attempt++)
            {
                var (result, error, retryable, retryAfter) = await SendOnceAsync(plan.SessionId, transport, body, ct).ConfigureAwait(false);
                if (result is not null)
                {
                    answer = result;
                    break;
                }

                stats.Errors.Add(Name(transport) + ":" + error);
                if (!retryable || attempt >= options.Retries)
                {
                    return Finish("failed:" + error);
                }

                retries++;
                stats.Retry();
                if (retryAfter is { } wait)
                {
                    // 429 or 503 with Retry-After: the gateway says when (tenant limits, a busy session).
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                }
                else
                {
                    await Backoff(attempt, ct).ConfigureAwait(false);
                }
            }

            stats.Routes.Add(answer.Route ?? "none");
            if (answer.Trip is { } trip)
            {
                return Finish(plan.Runaway ? "tripped" : "tripped-unexpectedly", trip);
            }

            if (answer.Route == "deterministic")
            {
                // No model could answer (not a trip): the agent gets the fallback text and stops.
                return Finish("deterministic-fallback");
            }

            answers++;
            if (answer.ToolCalls.Count == 0)
            {
                return Finish(plan.Runaway ? "answered-without-tool-call" : "ok");
            }

            var calls = new JsonArray();
            foreach (var tool in answer.ToolCalls)
            {
                calls.Add(new JsonObject
                {
                    ["id"] = tool.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = tool.Name, ["arguments"] = tool.Arguments },
                });
            }

            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = calls });
            foreach (var tool in answer.ToolCalls)
            {
                messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = tool.Id, ["content"] = "ok (agent-loadgen)" });
            }
        }

        // A normal agent with one tool round trip stops here (it has what it needed); a runaway one was never stopped.
        return Finish(plan.Runaway ? "not-tripped" : "ok");
    }

    internal async Task Backoff(int attempt, CancellationToken ct)
    {
        // Client-side backoff before resending (a load generator pacing its own retries, not a test waiting).
        var delay = options.RetryDelay * Math.Pow(2, Math.Min(attempt, 5));
        await Task.Delay(delay, ct).ConfigureAwait(false);
    }

    internal static string Name(Transport transport) => transport switch
    {
        Transport.Rest => "rest",
        Transport.Sse => "sse",
        _ => "ws",
    };

    private async Task<(CallAnswer? Answer, string? Error, bool Retryable, TimeSpan? RetryAfter)> SendOnceAsync(string sessionId, Transport transport, byte[] body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-Session-Id", sessionId);
        if (options.ApiKey is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.RequestTimeout);
        stats.Call();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status != 200)
            {
                var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? TimeSpan.FromSeconds(Math.Clamp(delta.TotalSeconds, 0, 60)) : (TimeSpan?)null;
                return (null, "http-" + status, ErrorKinds.IsRetryableStatus(status), retryAfter);
            }

            var route = Header(response, "X-Gateway-Route");
            var trip = Header(response, "X-Gateway-Trip");
            CallAnswer? answer;
            if (transport == Transport.Sse)
            {
                answer = await ReadStreamAsync(response, route, trip, timeout.Token).ConfigureAwait(false);
                if (answer is null)
                {
                    return (null, "sse-truncated", true, null);
                }
            }
            else
            {
                var json = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                answer = ReadCompletion(json, route, trip);
            }

            stats.PerTransport[transport].CallLatency.Record(Stopwatch.GetElapsedTime(started));
            return (answer, null, false, null);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && (ErrorKinds.IsTransient(ex) || ex is OperationCanceledException))
        {
            return (null, ex is OperationCanceledException ? "timeout" : ErrorKinds.Of(ex), true, null);
        }
        catch (JsonException)
        {
            // A body cut short by a node going away reads as broken JSON: send again (bounded like any retry).
            return (null, "invalid-json", true, null);
        }
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static CallAnswer ReadCompletion(byte[] json, string? route, string? trip)
    {
        using var document = JsonDocument.Parse(json);
        var choice = document.RootElement.GetProperty("choices")[0];
        var message = choice.GetProperty("message");
        var tools = new List<ToolCall>();
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                var function = call.GetProperty("function");
                tools.Add(new ToolCall(call.GetProperty("id").GetString() ?? string.Empty, function.GetProperty("name").GetString() ?? "lookup", function.GetProperty("arguments").GetString() ?? "{}"));
            }
        }

        var text = message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString()! : string.Empty;
        var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        return new CallAnswer(route, trip, tools, text, finish);
    }

    /// <summary>Reads <c>data:</c> events up to <c>[DONE]</c>; null when the stream ended before it (the node went away).</summary>
    private static async Task<CallAnswer?> ReadStreamAsync(HttpResponseMessage response, string? route, string? trip, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = new StringBuilder();
        var tools = new SortedDictionary<int, (string Id, string Name, StringBuilder Arguments)>();
        string? finish = null;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line.AsMemory(6);
            if (data.Span.SequenceEqual("[DONE]"))
            {
                var calls = tools.Values.Select(t => new ToolCall(t.Id, t.Name, t.Arguments.ToString())).ToList();
                return new CallAnswer(route, trip, calls, text.ToString(), finish);
            }

            using var chunk = JsonDocument.Parse(data);
            var root = chunk.RootElement;
            if (root.TryGetProperty("gateway", out var gateway) && gateway.TryGetProperty("trip", out var cut))
            {
                // A live cut-off: the stream ends with the gateway's note of the trip.
                trip ??= cut.GetString();
            }

            if (!root.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0)
            {
                continue;
            }

            var choice = choices[0];
            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
            {
                finish = f.GetString();
            }

            if (!choice.TryGetProperty("delta", out var delta))
            {
                continue;
            }

            if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                text.Append(content.GetString());
            }

            if (delta.TryGetProperty("tool_calls", out var calls2) && calls2.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls2.EnumerateArray())
                {
                    var index = call.TryGetProperty("index", out var i) ? i.GetInt32() : tools.Count;
                    if (!tools.TryGetValue(index, out var tool))
                    {
                        tool = (string.Empty, "lookup", new StringBuilder());
                    }

                    if (call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                    {
                        tool.Id = id.GetString()!;
                    }

                    if (call.TryGetProperty("function", out var function))
                    {
                        if (function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                        {
                            tool.Name = name.GetString()!;
                        }

                        if (function.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.String)
                        {
                            tool.Arguments.Append(args.GetString());
                        }
                    }

                    tools[index] = tool;
                }
            }
        }

        return null;
    }

    private byte[] Body(JsonArray messages, bool stream)
    {
        var body = new JsonObject
        {
            ["model"] = options.Model,
            ["messages"] = messages.DeepClone(),
        };
        if (stream)
        {
            body["stream"] = true;
        }

        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    private static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };
}

/// <summary>One task's script: who it is, how it talks, what it sends.</summary>
internal sealed record AgentPlan(string SessionId, Transport Transport, bool Runaway, bool ToolRoundTrip, string Text)
{
    public string Kind => Runaway ? "runaway" : "normal";
}
