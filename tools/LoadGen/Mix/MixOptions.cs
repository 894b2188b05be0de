using System.Globalization;

namespace AgentGateway.LoadGen.Mix;

/// <summary>The three ways an agent task reaches the gateway in the <c>mix</c> mode.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<Transport>))]
internal enum Transport
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("rest")]
    Rest,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("sse")]
    Sse,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("ws")]
    Ws,
}

/// <summary>Settings of the <c>mix</c> mode (see <c>agent-loadgen --help</c>).</summary>
internal sealed record MixOptions(
    double Rate,
    TimeSpan Duration,
    int Concurrency,
    IReadOnlyDictionary<Transport, double> Weights,
    double RunawayShare,
    double ToolShare,
    string Model,
    int ModelLatencyMilliseconds,
    string? ApiKey,
    int MaxLoops,
    int Retries,
    TimeSpan RetryDelay,
    TimeSpan RequestTimeout,
    TimeSpan TaskTimeout,
    TimeSpan Drain,
    string SessionPrefix,
    int Seed)
{
    public static MixOptions Read(CommandLine args) => new(
        args.Double("rate", 5, 0.01),
        args.Duration("duration", TimeSpan.FromSeconds(30)),
        args.Int("concurrency", 64, 1, 100_000),
        ParseWeights(args.String("transports", "rest=1,sse=1,ws=1")),
        Share(args, "runaway-share", 0.2),
        Share(args, "tool-share", 0.5),
        args.String("model", "haiku"),
        args.Int("model-latency", 0, 0, 60_000),
        args.OptionalString("api-key"),
        args.Int("max-loops", 5, 1, 1000),
        args.Int("retries", 5, 0, 100),
        args.Duration("retry-delay", TimeSpan.FromMilliseconds(200)),
        args.Duration("request-timeout", TimeSpan.FromSeconds(30)),
        args.Duration("task-timeout", TimeSpan.FromSeconds(90)),
        args.Duration("drain", TimeSpan.FromSeconds(30)),
        args.String("session-prefix", "mx-" + Guid.NewGuid().ToString("N")[..8]),
        args.Int("seed", Random.Shared.Next(), 0));

    /// <summary><c>rest=1,sse=1,ws=1</c>: relative weights; a transport left out gets none.</summary>
    internal static Dictionary<Transport, double> ParseWeights(string raw)
    {
        var weights = new Dictionary<Transport, double>();
        foreach (var part in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            var transport = kv[0] switch
            {
                "rest" => Transport.Rest,
                "sse" => Transport.Sse,
                "ws" => Transport.Ws,
                _ => throw new ArgumentException($"--transports: unknown transport '{kv[0]}' (rest, sse, ws)."),
            };
            var weight = 1.0;
            if (kv.Length == 2 && (!double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || weight < 0))
            {
                throw new ArgumentException($"--transports: weight of {kv[0]} must be a number of at least 0 (was '{kv[1]}').");
            }

            weights[transport] = weight;
        }

        if (weights.Values.Sum() <= 0)
        {
            throw new ArgumentException("--transports: at least one transport needs a weight above 0 (e.g. rest=1,sse=1,ws=1).");
        }

        return weights;
    }

    private static double Share(CommandLine args, string name, double fallback)
    {
        var share = args.Double(name, fallback);
        return share <= 1 ? share : throw new ArgumentException($"--{name} must be from 0 to 1 (was {share}).");
    }

    /// <summary>The transport for a uniform draw in [0, 1).</summary>
    public Transport PickTransport(double draw)
    {
        var total = Weights.Values.Sum();
        var at = draw * total;
        foreach (var transport in new[] { Transport.Rest, Transport.Sse, Transport.Ws })
        {
            if (Weights.TryGetValue(transport, out var weight) && weight > 0)
            {
                if (at < weight)
                {
                    return transport;
                }

                at -= weight;
            }
        }

        return Weights.Last(w => w.Value > 0).Key;
    }
}
