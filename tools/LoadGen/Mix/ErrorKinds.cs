using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace AgentGateway.LoadGen.Mix;

/// <summary>Short, stable names for what went wrong on the wire, and whether trying the same request again may help.</summary>
internal static class ErrorKinds
{
    /// <summary>
    /// Statuses worth another attempt: 429 and 503 (the gateway asks to come back: session busy, rate limit), and
    /// 502 and 504 (the load balancer lost the node, e.g. it was killed mid-request).
    /// </summary>
    public static bool IsRetryableStatus(int status) => status is 429 or 502 or 503 or 504;

    public static string Of(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection-refused",
                    SocketError.ConnectionReset => "connection-reset",
                    SocketError.ConnectionAborted => "connection-aborted",
                    SocketError.TimedOut => "timeout",
                    _ => "socket-" + socket.SocketErrorCode,
                };
            }
        }

        return ex switch
        {
            TimeoutException or TaskCanceledException or OperationCanceledException => "timeout",
            HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } => "response-ended",
            HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } h => "http-" + h.HttpRequestError,
            WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely } => "ws-closed-prematurely",
            WebSocketException ws => "ws-" + ws.WebSocketErrorCode,
            IOException => "io-error",
            _ => ex.GetType().Name,
        };
    }

    /// <summary>Failures of the connection or the peer (never a bug of ours): the request may be sent again.</summary>
    public static bool IsTransient(Exception ex) =>
        ex is HttpRequestException or IOException or WebSocketException or TimeoutException or SocketException
        || (ex is OperationCanceledException && ex.InnerException is TimeoutException);
}
