using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Storage;

namespace AgentGateway.Providers.Tests.Storage;

public sealed class InMemorySessionCatalogTests
{
    private readonly InMemorySessionStore _store = new();

    [Fact]
    public async Task ListAsync_StatusFilterInPages_ExactIdsInOrderThenNoCursor()
    {
        foreach (var (id, status) in new[]
                 {
                     ("s5", SessionStatus.Tripped), ("s1", SessionStatus.Tripped), ("s3", SessionStatus.Active),
                     ("s2", SessionStatus.Tripped), ("s4", SessionStatus.Ended), ("s6", SessionStatus.Tripped),
                 })
        {
            (await _store.TryWriteAsync(State(id, status), 0, default)).ShouldBeTrue();
        }

        var first = await _store.ListAsync(SessionStatus.Tripped, 3, null, default);
        var second = await _store.ListAsync(SessionStatus.Tripped, 3, first.NextCursor, default);
        var all = await _store.ListAsync(null, 10, null, default);

        first.Items.Select(s => s.SessionId).ShouldBe(["s1", "s2", "s5"]);
        first.NextCursor.ShouldBe("s5");
        second.Items.Select(s => s.SessionId).ShouldBe(["s6"]);
        second.NextCursor.ShouldBeNull();
        all.Items.Select(s => s.SessionId).ShouldBe(["s1", "s2", "s3", "s4", "s5", "s6"]);
        all.NextCursor.ShouldBeNull();
    }

    [Fact]
    public async Task ListAsync_PageExactlyFull_NoCursorWhenNothingFollows()
    {
        await _store.TryWriteAsync(State("a", SessionStatus.Active), 0, default);
        await _store.TryWriteAsync(State("b", SessionStatus.Active), 0, default);

        var page = await _store.ListAsync(SessionStatus.Active, 2, null, default);

        page.Items.Count.ShouldBe(2);
        page.NextCursor.ShouldBeNull();
    }

    [Fact]
    public async Task ListAsync_LimitBelowOne_Throws()
        => await Should.ThrowAsync<ArgumentOutOfRangeException>(() => _store.ListAsync(null, 0, null, default).AsTask());

    private static SessionState State(string id, SessionStatus status) =>
        new(id, 1, status, TripReason.None, null, 0, 0, 0, [], [], [], DateTimeOffset.UnixEpoch);
}
