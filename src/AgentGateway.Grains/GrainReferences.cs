using Orleans.Metadata;

namespace AgentGateway.Grains;

/// <summary>
/// References to the grains of one interface by string key, for a path that asks for one on every request.
/// </summary>
/// <remarks>
/// Written by hand because <see cref="IGrainFactory.GetGrain{TGrainInterface}(string, string)"/> resolves the
/// interface's <see cref="GrainInterfaceType"/> from its attributes by reflection on every call (measured at ~5 % of a
/// governed request's CPU under load). Orleans offers <see cref="IGrainFactory.GetGrain(GrainId, GrainInterfaceType)"/>
/// to callers that hold the types: this resolves the interface type once, and the grain type on each call (a lookup in
/// the cluster manifest Orleans already caches, so a manifest change is still seen).
/// </remarks>
public sealed class GrainReferences<TGrain>(
    IGrainFactory grains,
    GrainInterfaceTypeResolver interfaces,
    GrainInterfaceTypeToGrainTypeResolver implementations)
    where TGrain : IGrainWithStringKey
{
    private readonly GrainInterfaceType _interface = interfaces.GetGrainInterfaceType(typeof(TGrain));

    /// <summary>The grain with <paramref name="key"/>: the same reference <c>GetGrain&lt;TGrain&gt;(key)</c> returns.</summary>
    public TGrain Get(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var id = GrainId.Create(implementations.GetGrainType(_interface), key);
        return (TGrain)grains.GetGrain(id, _interface);
    }
}
