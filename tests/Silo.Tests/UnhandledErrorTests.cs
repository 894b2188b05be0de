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
    public async Task ChatCompletions_SessionServiceThrows_Returns500InternalErrorProblem()
    {
        await using var factory = new GatewayFactory(services: s => s.AddSingleton<ISessionService, BrokenSessionService>());
        using var http = new HttpClient { BaseAddress = factory.StartOnKestrel() };

        using var response = await http.PostAsync(
            "/v1/chat/completions",
            new StringContent(Chat.Request("haiku", "Say hello.").ToJsonString(), Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal-error");
        problem.ToJsonString().ShouldNotContain(BrokenSessionService.Secret);
        using var health = await http.GetAsync("/health");
        health.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private sealed class BrokenSessionService : ISessionService
    {
        public const string Secret = "store connection string";

        public Task<Admission> AdmitAsync(string sessionId, TurnInfo turn, CancellationToken cancellationToken)
            => throw new InvalidOperationException(Secret);

        public Task<TokenGrant> ChargeAsync(string sessionId, StreamCharge charge, CancellationToken cancellationToken)
            => throw new InvalidOperationException(Secret);

        public void Settle(string sessionId, CallSettlement settlement) => throw new InvalidOperationException(Secret);

        public Task<SessionView?> GetAsync(string sessionId, CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);

        public Task<SessionView?> GetDetailAsync(string sessionId, CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);

        public Task<bool> ClaimAsync(string sessionId, string tenant, CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);

        public Task<SessionActionResult> ResumeAsync(string sessionId, string? note, CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);

        public Task<SessionActionResult> EndAsync(string sessionId, string? note, CancellationToken cancellationToken) => throw new InvalidOperationException(Secret);
    }
}
