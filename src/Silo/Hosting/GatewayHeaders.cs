namespace AgentGateway.Silo.Hosting;

/// <summary>Response headers through which the gateway tells a client what it did.</summary>
public static class GatewayHeaders
{
    /// <summary>
    /// Which route answered: <c>primary</c> (the model asked for), <c>fallback:{model}</c> (an alternate model),
    /// <c>region:{region}</c> (the model in another region), <c>cache</c> (a stored answer to the same conversation) or <c>deterministic</c> (the fallback text). See <see cref="Routing.Routes"/>.
    /// </summary>
    public const string Route = "X-Gateway-Route";

    /// <summary>Present on governed refusals: <c>loop_limit</c> or <c>token_velocity</c>.</summary>
    public const string Trip = "X-Gateway-Trip";

    /// <summary>The task's loop count after this request.</summary>
    public const string LoopCount = "X-Gateway-Loop-Count";

    /// <summary>On a fallback caused by a model failure: the upstream status that caused it.</summary>
    public const string UpstreamStatus = "X-Gateway-Upstream-Status";
}
