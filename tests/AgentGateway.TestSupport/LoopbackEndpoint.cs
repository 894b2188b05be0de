using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentGateway.TestSupport;

/// <summary>
/// A real HTTP endpoint on Kestrel (127.0.0.1, a free port) that records every request it receives — method, path,
/// headers, body and the moment it arrived (<see cref="TimeProvider.System"/>: real time, whatever clock the code under
/// test runs on) — and answers with the status <see cref="Status"/> says. Tests wait on <see cref="WhenReceived"/>,
/// completed by the endpoint itself, never by polling.
/// </summary>
public sealed class LoopbackEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly List<(Func<IReadOnlyList<ReceivedRequest>, bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private readonly Lock _gate = new();

    private LoopbackEndpoint(WebApplication app) => _app = app;

    /// <summary>The status to answer the next request with (200 unless a test says otherwise); may change between requests.</summary>
    public Func<ReceivedRequest, int> Status { get; set; } = static _ => StatusCodes.Status200OK;

    /// <summary>When set, each request waits for it before being answered (an endpoint that hangs until released).</summary>
    public Task? Hold { get; set; }

    /// <summary>The body answered with a 2xx.</summary>
    public string SuccessBody { get; set; } = string.Empty;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public static async Task<LoopbackEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(static k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var endpoint = new LoopbackEndpoint(app);
        app.Run(endpoint.HandleAsync);
        await app.StartAsync();
        var address = app.Urls.Single();
        endpoint.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return endpoint;
    }

    /// <summary>Completes (asynchronously) once the requests received satisfy <paramref name="done"/>; fails after 30 s so a bug fails the test instead of hanging it.</summary>
    public Task WhenReceived(Func<IReadOnlyList<ReceivedRequest>, bool> done)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (done(Received))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((done, signal));
        }

        return signal.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public Task WhenReceivedCount(int count) => WhenReceived(r => r.Count >= count);

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        var request = new ReceivedRequest(
            http.Request.Method,
            http.Request.Path.Value ?? "/",
            http.Request.Headers.ToDictionary(static h => h.Key, static h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body,
            TimeProvider.System.GetUtcNow());
        if (Hold is { } hold)
        {
            await hold.WaitAsync(http.RequestAborted);
        }

        var status = Status(request);
        request = request with { AnsweredStatus = status };
        http.Response.StatusCode = status;
        if (status is >= 200 and < 300 && SuccessBody.Length > 0)
        {
            await http.Response.WriteAsync(SuccessBody, http.RequestAborted);
        }

        await http.Response.CompleteAsync();
        lock (_gate)
        {
            _received.Enqueue(request);
            var all = Received;
            foreach (var waiter in _waiters.Where(w => w.Done(all)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Signal.TrySetResult();
            }
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>One request as the endpoint saw it; <see cref="ReceivedAt"/> is real time.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset ReceivedAt)
{
    public int AnsweredStatus { get; init; }

    /// <summary>The body as a form (<c>application/x-www-form-urlencoded</c>).</summary>
    public IReadOnlyDictionary<string, string> Form() => Body.Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(static pair => pair.Split('=', 2))
        .ToDictionary(static kv => Uri.UnescapeDataString(kv[0].Replace('+', ' ')), static kv => kv.Length > 1 ? Uri.UnescapeDataString(kv[1].Replace('+', ' ')) : string.Empty);
}
