using AgentGateway.Contracts.Breakers;
using Amazon.DynamoDBv2;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// Breakers in the <c>{prefix}grains</c> table, one item per model (<c>breaker/{model}</c>, state <c>breaker</c>; see
/// <see cref="DynamoVersionedStore{TState}"/>).
/// An item expires <see cref="DynamoDbOptions.SessionTimeToLive"/> after its last write (a breaker not written for that
/// long is closed in all but name, and starts closed again), except an isolated one: an operator's isolation never expires.
/// </summary>
public sealed class DynamoBreakerStore(IAmazonDynamoDB client, DynamoDbOptions options, TimeProvider time)
    : DynamoVersionedStore<BreakerState>(client, options.GrainsTable, GrainType, GrainType, time), IBreakerStore
{
    /// <summary>The breaker grain's type and state name.</summary>
    public const string GrainType = "breaker";

    private readonly TimeSpan _timeToLive = options.SessionTimeToLive;

    protected override string KeyOf(BreakerState state) => state.Name;

    protected override long VersionOf(BreakerState state) => state.Version;

    protected override byte[] Encode(BreakerState state) => StateCodec.Encode(state);

    protected override BreakerState Decode(byte[] bytes) => StateCodec.DecodeBreaker(bytes);

    protected override DateTimeOffset? ExpiresAt(BreakerState state) =>
        state.Status == BreakerStatus.Isolated ? null : Time.GetUtcNow() + _timeToLive;
}
