using System.Buffers;
using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text.Json;

namespace AgentGateway.LoadGen.Mix;

/// <summary>
/// An agent on <c>GET /v1/sessions/{id}/ws</c> (docs/websocket.md): sends one <c>user_message</c>, answers the
/// node's <c>tool_call</c>s, and ends at a <c>done</c> that is not a tool round trip or at a <c>fallback</c>.
/// </summary>
/// <remarks>
/// A normal agent with a tool round trip answers the first tool call and cancels at the second (it has what it
/// needed). A runaway agent answers every tool call until the gateway's <c>fallback</c>.
/// A connection that fails (handshake refused or 502, reset, closed by the server, silent for the request timeout)
/// is counted under its kind and made again, up to <see cref="MixOptions.Retries"/> times: the new connection starts
/// from the node's <c>state</c>; when it is idle the same user message is sent again, which the gateway counts as
/// a continuation of the same task (same text, same position), so the loop count carries on.
/// </remarks>
internal sealed class WsAgent(HttpMessageInvoker invoker, Uri wsBase, MixOptions options, MixStats stats, HttpAgent pacing)
{
    private static readonly HashSet<string> TripReasons = ["loop_limit", "token_velocity", "session_ended"];

    public async Task<TaskRecord> RunAsync(AgentPlan plan, CancellationToken ct)
    {
        var state = new State();
        var started = Stopwatch.GetTimestamp();
        TaskRecord Finish(string outcome)
            => new(plan.SessionId, Transport.Ws, plan.Kind, outcome, state.Answers, state.Trip, state.Retries, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 3));

        for (var attempt = 0; ; attempt++)
        {
            var (outcome, error) = await RunConnectionAsync(plan, state, ct).ConfigureAwait(false);
            if (outcome is not null)
            {
                return Finish(outcome);
            }

            stats.Errors.Add("ws:" + error);
            if (attempt >= options.Retries)
            {
                return Finish("failed:" + error);
            }

            state.Retries++;
            stats.Retry();
            await pacing.Backoff(attempt, ct).ConfigureAwait(false);
        }
    }

    /// <summary>One connection: the task's outcome when it ended, else the error that ended the connection.</summary>
    private async Task<(string? Outcome, string? Error)> RunConnectionAsync(AgentPlan plan, State state, CancellationToken ct)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (options.ApiKey is { } key)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
        }

        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            connectTimeout.CancelAfter(options.RequestTimeout);
            stats.Call();
            await socket.ConnectAsync(new Uri(wsBase, $"/v1/sessions/{Uri.EscapeDataString(plan.SessionId)}/ws"), invoker, connectTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return (null, socket.HttpStatusCode is not 0 and not System.Net.HttpStatusCode.SwitchingProtocols
                ? "connect-http-" + (int)socket.HttpStatusCode
                : "connect-" + ErrorKinds.Of(ex));
        }

        socket.HttpResponseHeaders = null;
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                using (var silence = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    silence.CancelAfter(options.RequestTimeout);
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.GetMemory(4096), silence.Token).ConfigureAwait(false);
                        buffer.Advance(result.Count);
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (null, "close-" + (socket.CloseStatus is { } code ? ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none"));
                }

                var outcome = await HandleAsync(socket, plan, state, buffer.WrittenMemory, ct).ConfigureAwait(false);
                if (outcome is not null)
                {
                    await CloseQuietlyAsync(socket).ConfigureAwait(false);
                    return (outcome, null);
                }
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && (ErrorKinds.IsTransient(ex) || ex is OperationCanceledException))
        {
            return (null, ex is OperationCanceledException ? "timeout" : ErrorKinds.Of(ex));
        }
    }

    /// <summary>Acts on one server message; the task's outcome when it is over.</summary>
    private async Task<string?> HandleAsync(ClientWebSocket socket, AgentPlan plan, State state, ReadOnlyMemory<byte> frame, CancellationToken ct)
    {
        using var document = JsonDocument.Parse(frame);
        var root = document.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "state":
                var phase = root.TryGetProperty("phase", out var p) ? p.GetString() : "idle";
                if (phase == "awaiting_tool" && root.TryGetProperty("pending_tool_calls", out var pending))
                {
                    foreach (var call in pending.EnumerateArray())
                    {
                        await OnToolCallAsync(socket, plan, state, call.GetProperty("call_id").GetString() ?? string.Empty).ConfigureAwait(false);
                    }
                }
                else if (phase == "idle")
                {
                    await SendUserMessageAsync(socket, plan, state).ConfigureAwait(false);
                }

                return null;
            case "tool_call":
                // A call that asks for tools ends at its first tool_call (its done follows).
                CallEnded(state);
                await OnToolCallAsync(socket, plan, state, root.GetProperty("call_id").GetString() ?? string.Empty).ConfigureAwait(false);
                return null;
            case "done":
                var finish = root.TryGetProperty("finish_reason", out var f) ? f.GetString() : null;
                if (finish == "cancelled")
                {
                    return plan.Runaway ? "cancelled" : "ok";
                }

                state.Answers++;
                stats.Routes.Add(root.TryGetProperty("route", out var route) && route.ValueKind == JsonValueKind.String ? route.GetString()! : "none");
                if (finish != "tool_calls")
                {
                    CallEnded(state);
                    return plan.Runaway ? "answered-without-tool-call" : "ok";
                }

                if (!plan.Runaway && (!plan.ToolRoundTrip || state.Answers >= 2))
                {
                    // The agent has what it needed: it drops the pending tool calls.
                    await SendAsync(socket, """{"type":"cancel"}"""u8.ToArray()).ConfigureAwait(false);
                }

                return null;
            case "fallback":
                var reason = root.TryGetProperty("reason", out var r) ? r.GetString() ?? "none" : "none";
                stats.Routes.Add("deterministic");
                CallEnded(state);
                if (TripReasons.Contains(reason))
                {
                    state.Trip = reason;
                    return plan.Runaway ? "tripped" : "tripped-unexpectedly";
                }

                return "deterministic-fallback";
            case "error":
                var code = root.TryGetProperty("code", out var c) ? c.GetString() ?? "none" : "none";
                stats.Errors.Add("ws:error-" + code);
                if (code is "session-busy" or "rate-limited")
                {
                    // Nothing was counted: the same user_message again after the wait (rate-limited names it), bounded.
                    if (state.Retries >= options.Retries)
                    {
                        return "failed:error-" + code;
                    }

                    state.Retries++;
                    stats.Retry();
                    if (code == "rate-limited" && root.TryGetProperty("retry_after", out var after) && after.TryGetInt32(out var seconds))
                    {
                        await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 60)), ct).ConfigureAwait(false);
                    }
                    else
                    {
                        await pacing.Backoff(state.Retries - 1, ct).ConfigureAwait(false);
                    }

                    await SendUserMessageAsync(socket, plan, state).ConfigureAwait(false);
                }

                return null;
            default:
                // user_message and tool_result echoes, tokens, pongs.
                return null;
        }
    }

    private async Task OnToolCallAsync(ClientWebSocket socket, AgentPlan plan, State state, string callId)
    {
        state.ToolCalls++;
        if (plan.Runaway || (plan.ToolRoundTrip && state.ToolCalls == 1))
        {
            await SendAsync(socket, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["type"] = "tool_result",
                ["call_id"] = callId,
                ["content"] = "ok (agent-loadgen)",
            })).ConfigureAwait(false);
            CallStarted(state);
        }
    }

    private static void CallStarted(State state)
    {
        state.SentAt = Stopwatch.GetTimestamp();
        state.Awaiting = true;
    }

    /// <summary>A WebSocket call's latency: from the turn sent (user_message, tool_result) to the call's first end sign.</summary>
    private void CallEnded(State state)
    {
        if (state.Awaiting)
        {
            state.Awaiting = false;
            stats.PerTransport[Transport.Ws].CallLatency.Record(Stopwatch.GetElapsedTime(state.SentAt));
        }
    }

    private async Task SendUserMessageAsync(ClientWebSocket socket, AgentPlan plan, State state)
    {
        await SendAsync(socket, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["type"] = "user_message",
            ["text"] = plan.Text,
            ["model"] = options.Model,
        })).ConfigureAwait(false);
        CallStarted(state);
    }

    private async Task SendAsync(ClientWebSocket socket, byte[] message)
    {
        stats.Call();
        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "task over", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }

    /// <summary>What a task carries over from one connection to the next.</summary>
    private sealed class State
    {
        public int Answers { get; set; }

        public int ToolCalls { get; set; }

        public int Retries { get; set; }

        public string? Trip { get; set; }

        public long SentAt { get; set; }

        public bool Awaiting { get; set; }
    }
}
