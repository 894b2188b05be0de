using System.Text;
using AgentGateway.Contracts.Conversations;

namespace AgentGateway.Silo.Conversations;

/// <summary>
/// A conversation's sockets and the text its running call has streamed so far: the one piece of a conversation that
/// the call's stream (outside the grain's turns) shares with the grain, under one lock, so a socket that attaches
/// mid-stream gets the text so far in its <c>state</c> and every later token exactly once.
/// </summary>
internal sealed class ConversationSockets(ChatSocketDirectory directory)
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _partial = new();
    private (IChatSocket Reference, IChatSocket Target)[] _sockets = [];

    public int Count => Volatile.Read(ref _sockets).Length;

    /// <summary>Adds a socket and sends it its first message, built from the text streamed so far.</summary>
    public void Add(IChatSocket socket, Func<string, byte[]> first)
    {
        var target = directory.Resolve(socket);
        lock (_gate)
        {
            _sockets = [.. _sockets, (socket, target)];
            _ = target.SendAsync(first(_partial.ToString()));
        }
    }

    public void Remove(IChatSocket socket)
    {
        lock (_gate)
        {
            _sockets = [.. _sockets.Where(s => !s.Reference.Equals(socket))];
        }
    }

    /// <summary>Sends a message to every socket (it never waits).</summary>
    public void Send(byte[] message)
    {
        lock (_gate)
        {
            foreach (var (_, target) in _sockets)
            {
                _ = target.SendAsync(message);
            }
        }
    }

    /// <summary>Sends a streamed token to every socket (and keeps it in the text so far), then waits for any socket that is full.</summary>
    public async ValueTask SendTokenAsync(string text)
    {
        var message = ChatProtocol.Token(text);
        Task[] sent;
        lock (_gate)
        {
            _partial.Append(text);
            sent = new Task[_sockets.Length];
            for (var i = 0; i < sent.Length; i++)
            {
                sent[i] = _sockets[i].Target.SendStreamedAsync(message);
            }
        }

        foreach (var task in sent)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException or ObjectDisposedException)
            {
                // That socket is gone (its own close detaches it): the stream goes on for the others, and the model is
                // not to blame.
            }
        }
    }

    /// <summary>The text the finished call streamed; the next call starts from none.</summary>
    public string TakePartial()
    {
        lock (_gate)
        {
            var text = _partial.ToString();
            _partial.Clear();
            return text;
        }
    }
}
