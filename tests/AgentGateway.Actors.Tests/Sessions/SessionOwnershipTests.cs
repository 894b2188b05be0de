using AgentGateway.Actors.Sessions;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Storage;
using AgentGateway.Runtime;
using AgentGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Actors.Tests.Sessions;

/// <summary>
/// Ownership and operator actions through the actors and the store: two nodes share one store, as two gateway
/// nodes share DynamoDB, so a race for a new id is decided by the store's conditional write, not by routing.
/// </summary>
public sealed class SessionOwnershipTests : IAsyncLifetime
{
    private static readonly ulong Task1 = TaskFingerprint.Compute(1, "do it [[sim:loop]]");
    private readonly FakeTimeProvider _time = new();
    private readonly InMemorySessionStore _store = new();
    private readonly List<SessionService> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task ClaimAsync_TwoTenantsRacingOnTwoNodesFor100NewIds_ExactlyOneOwnerEach()
    {
        var a = NewNode();
        var b = NewNode();
        var ids = Enumerable.Range(0, 100).Select(i => $"race-{i}").ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var claims = ids.SelectMany(id => new[]
        {
            Task.Run(async () => { await start.Task; return (id, tenant: "acme", owned: await a.ClaimAsync(id, "acme", CancellationToken.None)); }),
            Task.Run(async () => { await start.Task; return (id, tenant: "globex", owned: await b.ClaimAsync(id, "globex", CancellationToken.None)); }),
        }).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(claims);

        foreach (var id in ids)
        {
            var winners = results.Where(r => r.id == id && r.owned).ToArray();
            var winner = winners.ShouldHaveSingleItem();
            (await _store.ReadAsync(id, CancellationToken.None))!.Owner.ShouldBe(winner.tenant);
        }
    }

    [Fact]
    public async Task AdmitAsync_TwoTenantsRacingOnTwoNodesForANewId_OnlyTheOwnerIsEverAdmitted()
    {
        var a = NewNode();
        var b = NewNode();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var admits = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var tenant = i % 2 == 0 ? "acme" : "globex";
            return (tenant, admission: await (i % 2 == 0 ? a : b).AdmitAsync("s1", Continue(tenant), CancellationToken.None));
        })).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(admits);

        var owner = (await _store.ReadAsync("s1", CancellationToken.None))!.Owner!;
        results.Where(r => r.tenant != owner).ShouldAllBe(r => r.admission.Forbidden && !r.admission.Allowed);
        results.Where(r => r.tenant == owner).ShouldAllBe(r => !r.admission.Forbidden);
        results.Count(r => r.admission.Allowed).ShouldBe(5);
    }

    [Fact]
    public async Task ClaimAsync_NewSession_WritesAnOwnedSessionWithNothingCounted()
    {
        var node = NewNode();

        (await node.ClaimAsync("s1", "acme", CancellationToken.None)).ShouldBeTrue();
        (await node.ClaimAsync("s1", "acme", CancellationToken.None)).ShouldBeTrue();
        (await node.ClaimAsync("s1", "globex", CancellationToken.None)).ShouldBeFalse();

        var stored = (await _store.ReadAsync("s1", CancellationToken.None))!;
        stored.Version.ShouldBe(1);
        stored.Owner.ShouldBe("acme");
        stored.ModelCalls.ShouldBe(0);
    }

    [Fact]
    public async Task EndAsync_OnOtherNode_TrippedNodeRefusesWithSessionEndedAndResumeIsEnded()
    {
        var a = NewNode();
        var b = NewNode();
        for (var i = 0; i < 6; i++)
        {
            await a.AdmitAsync("s1", Continue("acme"), CancellationToken.None);
        }

        var ended = await b.EndAsync("s1", "closing it", CancellationToken.None);
        var refused = await a.AdmitAsync("s1", new TurnInfo(TurnKind.UserMessage, TaskFingerprint.Compute(1, "new task"), 3, "acme"), CancellationToken.None);
        var resumed = await a.ResumeAsync("s1", "reopen", CancellationToken.None);
        var endedAgain = await b.EndAsync("s1", null, CancellationToken.None);

        ended.Outcome.ShouldBe(SessionActionOutcome.Done);
        ended.View!.Status.ShouldBe("ended");
        ended.View.TripReason.ShouldBe("loop_limit");
        refused.ShouldBe(Admission.Refused(TripReason.SessionEnded, newlyTripped: false, 5));
        resumed.Outcome.ShouldBe(SessionActionOutcome.Ended);
        resumed.View!.Status.ShouldBe("ended");
        endedAgain.Outcome.ShouldBe(SessionActionOutcome.Ended);
        var detail = (await a.GetDetailAsync("s1", CancellationToken.None))!;
        detail.Audit!.Select(e => (e.Decision, e.Note)).ShouldBe(
        [
            ("admitted", null), ("admitted", null), ("admitted", null), ("admitted", null), ("admitted", null),
            ("refused", null), ("ended", "closing it"),
        ]);
    }

    [Fact]
    public async Task EndAsync_UnknownSession_NotFoundAndNothingStored()
    {
        var node = NewNode();

        (await node.EndAsync("nobody", "x", CancellationToken.None)).ShouldBe(new SessionActionResult(SessionActionOutcome.NotFound, null));
        _store.Count.ShouldBe(0);
    }

    private SessionService NewNode()
    {
        var node = new SessionService(_store, new GovernanceOptions(), new ActorHostOptions(), _time, NullLoggerFactory.Instance);
        _nodes.Add(node);
        return node;
    }

    private static TurnInfo Continue(string tenant) => new(TurnKind.Continuation, Task1, 3, tenant);
}
