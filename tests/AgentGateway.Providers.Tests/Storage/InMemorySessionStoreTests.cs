using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Storage;

namespace AgentGateway.Providers.Tests.Storage;

public sealed class InMemorySessionStoreTests
{
    private readonly InMemorySessionStore _store = new();

    [Fact]
    public async Task TryWriteAsync_VersionsChain_OnlyTheReadVersionWins()
    {
        (await _store.TryWriteAsync(State(1, loops: 1), 0, default)).ShouldBeTrue();
        (await _store.TryWriteAsync(State(1, loops: 9), 0, default)).ShouldBeFalse();
        (await _store.TryWriteAsync(State(2, loops: 2), 1, default)).ShouldBeTrue();
        (await _store.TryWriteAsync(State(2, loops: 9), 1, default)).ShouldBeFalse();

        var stored = await _store.ReadAsync("s", default);
        stored!.Version.ShouldBe(2);
        stored.LoopCount.ShouldBe(2);
    }

    [Fact]
    public async Task TryWriteAsync_ManyConcurrentWritersOfOneVersion_ExactlyOneWins()
    {
        await _store.TryWriteAsync(State(1, loops: 0), 0, default);

        var writes = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => _store.TryWriteAsync(State(2, loops: i), 1, default).AsTask())));

        writes.Count(w => w).ShouldBe(1);
    }

    [Fact]
    public async Task TryWriteAsync_VersionNotNextOfExpected_Throws()
        => await Should.ThrowAsync<ArgumentException>(() => _store.TryWriteAsync(State(5, loops: 0), 1, default).AsTask());

    [Fact]
    public async Task ReadAsync_Unknown_Null() => (await _store.ReadAsync("nobody", default)).ShouldBeNull();

    private static SessionState State(long version, int loops) =>
        new("s", version, SessionStatus.Active, TripReason.None, null, loops, loops, 0, [], [], [], DateTimeOffset.UnixEpoch);
}
