namespace AgentGateway.LoadGen;

/// <summary>
/// One way of loading a node (WebSocket sessions, REST calls, later SSE, mixes of agents, multi-node runs). A mode
/// reads its own options, runs until done or <c>stop</c>, prints progress on stderr, and returns what it measured.
/// </summary>
internal interface ILoadMode
{
    string Name { get; }

    /// <summary>Runs the load; the result is serialized into the JSON report and rendered by <see cref="Render"/>.</summary>
    Task<object> RunAsync(RunContext context, CancellationToken stop);

    /// <summary>The human-readable final report (stdout).</summary>
    void Render(object result, TextWriter output);
}

/// <summary>What every mode shares: the node's base address, the optional node process to watch, the progress sink.</summary>
internal sealed record RunContext(Uri Url, int? NodePid, TextWriter Progress, bool Quiet);
