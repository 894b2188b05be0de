using AgentGateway.LoadGen.Metrics;

namespace AgentGateway.LoadGen.Ws;

/// <summary>What all WebSocket sessions of a run counted, updated from their receive loops.</summary>
internal sealed class WsStats
{
    private long _tokens;
    private long _userMessages;
    private int _connecting;
    private int _open;
    private int _everOpen;
    private int _peakOpen;

    public LatencyHistogram Connect { get; } = new();

    /// <summary>From the end of the handshake to the first server message (<c>state</c>).</summary>
    public LatencyHistogram FirstMessage { get; } = new();

    /// <summary>From sending a <c>user_message</c> to its first <c>token</c>.</summary>
    public LatencyHistogram FirstToken { get; } = new();

    public Tally ConnectFailures { get; } = new();

    public Tally Done { get; } = new();

    public Tally Fallbacks { get; } = new();

    public Tally ServerErrors { get; } = new();

    public Tally Closes { get; } = new();

    public Tally SocketErrors { get; } = new();

    public long Tokens => Volatile.Read(ref _tokens);

    public long UserMessages => Volatile.Read(ref _userMessages);

    public int Connecting => Volatile.Read(ref _connecting);

    public int Open => Volatile.Read(ref _open);

    public int EverOpen => Volatile.Read(ref _everOpen);

    public int PeakOpen => Volatile.Read(ref _peakOpen);

    public void TokenReceived() => Interlocked.Increment(ref _tokens);

    public void UserMessageSent() => Interlocked.Increment(ref _userMessages);

    public void ConnectStarted() => Interlocked.Increment(ref _connecting);

    public void ConnectEnded() => Interlocked.Decrement(ref _connecting);

    public void Opened()
    {
        Interlocked.Increment(ref _everOpen);
        var open = Interlocked.Increment(ref _open);
        int peak;
        while (open > (peak = Volatile.Read(ref _peakOpen)) && Interlocked.CompareExchange(ref _peakOpen, open, peak) != peak)
        {
        }
    }

    public void Closed() => Interlocked.Decrement(ref _open);
}
