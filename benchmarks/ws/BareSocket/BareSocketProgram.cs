// The floor of a WebSocket on this stack, to compare a gateway chat socket with: GET /ws accepts the upgrade, sends
// one small text message (as the gateway's `state`) and waits for client messages with a 1 KiB buffer, as the
// gateway's ChatConnection does, with the same 30 s keep-alive pings. GET /admin/node (?gc=true) answers the two
// fields agent-loadgen reads, so `agent-loadgen ws --silent --url ...` measures it like the Silo.
using System.Net.WebSockets;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
app.UseWebSockets();
var open = 0;
var hello = "{\"type\":\"state\"}"u8.ToArray();

app.MapGet("/v1/sessions/{id}/ws", async (HttpContext context) =>
{
    using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.FromSeconds(30) });
    Interlocked.Increment(ref open);
    try
    {
        await socket.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
        var buffer = new byte[1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
    {
    }
    finally
    {
        Interlocked.Decrement(ref open);
    }
});

app.MapGet("/admin/node", (bool gc = false) =>
{
    if (gc)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    return Results.Ok(new
    {
        node = $"{Environment.MachineName}:{Environment.ProcessId}",
        sessionActivations = Volatile.Read(ref open),
        memory = new { gcForced = gc, gcHeapBytes = GC.GetTotalMemory(false), workingSetBytes = Environment.WorkingSet },
    });
});

app.Run();
