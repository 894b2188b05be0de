namespace AgentGateway.LoadGen.Rest;

/// <summary>Settings of the <c>rest</c> mode (see <c>agent-loadgen --help</c>).</summary>
internal sealed record RestOptions(
    int Sessions,
    int CallsPerSession,
    int Concurrency,
    string Text,
    string Model,
    int WarmupSessions,
    bool NodeMemory,
    string SessionPrefix)
{
    public static RestOptions Read(CommandLine args) => new(
        args.Int("sessions", 10_000, 1, 10_000_000),
        args.Int("calls", 1, 1, 1_000_000),
        args.Int("concurrency", 64, 1, 100_000),
        args.String("text", "Say hello."),
        args.String("model", "haiku"),
        args.Int("warmup-sessions", 500, 0, 1_000_000),
        args.Flag("node-memory", true),
        args.String("session-prefix", "lg-" + Guid.NewGuid().ToString("N")[..8]));
}
