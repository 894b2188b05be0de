namespace AgentGateway.LoadGen.Ws;

/// <summary>Settings of the <c>ws</c> mode (see <c>agent-loadgen --help</c>).</summary>
internal sealed record WsOptions(
    int Sessions,
    double ConnectsPerSecond,
    TimeSpan Hold,
    TimeSpan Settle,
    string Text,
    string? Model,
    TimeSpan Stall,
    TimeSpan Think,
    TimeSpan FallbackPause,
    TimeSpan ConnectTimeout,
    TimeSpan CloseTimeout,
    int ReceiveBufferBytes,
    string SessionPrefix,
    bool NodeGc,
    bool Silent)
{
    /// <summary>A long, slow stream: every session receives one token a second for the whole run.</summary>
    public const string DefaultText = "[[sim:tokens=100000]] [[sim:pace=1000]]";

    public static WsOptions Read(CommandLine args) => new(
        args.Int("sessions", 1000, 1, 1_000_000),
        args.Double("rate", 500, 0.1),
        args.Duration("duration", TimeSpan.FromSeconds(30)),
        args.Duration("settle", TimeSpan.FromSeconds(5)),
        args.String("text", DefaultText),
        args.OptionalString("model"),
        args.Duration("stall", TimeSpan.FromSeconds(5)),
        args.Duration("think", TimeSpan.Zero),
        args.Duration("fallback-pause", TimeSpan.FromSeconds(5)),
        args.Duration("connect-timeout", TimeSpan.FromSeconds(15)),
        args.Duration("close-timeout", TimeSpan.FromSeconds(15)),
        args.Int("receive-buffer", 1024, 64, 1 << 20),
        args.String("session-prefix", "lg-" + Guid.NewGuid().ToString("N")[..8]),
        args.Flag("node-gc", true),
        args.Flag("silent"));
}
