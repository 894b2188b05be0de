using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Storage;
using AgentGateway.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// When another writer moved a session's stored state on (a node sharing the store without sharing the cluster), the
/// session grain's write is refused: nothing is decided or counted, the caller gets 429 <c>session-busy</c> with
/// <c>Retry-After</c>, never a 5xx, on every path.
/// </summary>
public sealed class SessionContentionTests
{
    [Fact]
    public async Task EveryWriteLost_ChatCompletionAndOperatorAction_429SessionBusyWithRetryAfter_NothingStored()
    {
        var store = new LosingStore();
        await using var factory = new GatewayFactory(GatewayFixture.SharedSettings, services =>
        {
            services.AddSingleton<ISessionStore>(store);
            services.AddSingleton<ISessionCatalog>(store.Inner);
        });
        using var http = new HttpClient { BaseAddress = factory.StartOnKestrel() };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Chat.Request("haiku", "hello").ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", "contended");
        using var answer = await http.SendAsync(request);
        await answer.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "session-busy");
        answer.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        store.LostWrites.ShouldBe(2, "a refused write drops the activation; the request asks once more, a fresh activation, and no more");

        // An operator action on a session that exists, with every write lost.
        (await store.Inner.TryWriteAsync(
            new SessionState("stored", 1, SessionStatus.Tripped, TripReason.LoopLimit, factory.Time.GetUtcNow(), 5, 5, 1, [1], [], [], factory.Time.GetUtcNow()),
            0,
            CancellationToken.None)).ShouldBeTrue();
        using var resume = await http.PostAsJsonAsync("/admin/sessions/stored/resume", new JsonObject { ["note"] = "checked" });
        await resume.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "session-busy");
        resume.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        (await store.Inner.ReadAsync("stored", CancellationToken.None))!.Status.ShouldBe(SessionStatus.Tripped);
        (await store.Inner.ReadAsync("contended", CancellationToken.None)).ShouldBeNull();
    }

    /// <summary>A store where another node always wrote first: reads succeed, every conditional write loses.</summary>
    private sealed class LosingStore : ISessionStore
    {
        private int _lost;

        public InMemorySessionStore Inner { get; } = new();

        public int LostWrites => Volatile.Read(ref _lost);

        public ValueTask<SessionState?> ReadAsync(string key, CancellationToken cancellationToken) => Inner.ReadAsync(key, cancellationToken);

        public ValueTask<bool> TryWriteAsync(SessionState state, long expectedVersion, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _lost);
            return ValueTask.FromResult(false);
        }
    }
}
