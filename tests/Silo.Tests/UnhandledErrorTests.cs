using System.Net;
using System.Text;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentGateway.Silo.Tests;

/// <summary>A fault inside the gateway itself still answers as a problem with the stable type, and nothing leaks.</summary>
public sealed class UnhandledErrorTests
{
    [Fact]
    public async Task ChatCompletions_SessionStoreThrows_Returns500InternalErrorProblem()
    {
        await using var factory = new GatewayFactory(services: s => s.AddSingleton<ISessionStore, BrokenSessionStore>());
        using var http = new HttpClient { BaseAddress = factory.StartOnKestrel() };

        using var response = await http.PostAsync(
            "/v1/chat/completions",
            new StringContent(Chat.Request("haiku", "Say hello.").ToJsonString(), Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal-error");
        problem.ToJsonString().ShouldNotContain(BrokenSessionStore.Secret);
        using var health = await http.GetAsync("/health");
        health.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>A store that fails every read and write (as an unreachable database does), with a secret in its message.</summary>
    private sealed class BrokenSessionStore : ISessionStore
    {
        public const string Secret = "store connection string";

        public ValueTask<SessionState?> ReadAsync(string key, CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);

        public ValueTask<bool> TryWriteAsync(SessionState state, long expectedVersion, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(Secret);
    }
}
