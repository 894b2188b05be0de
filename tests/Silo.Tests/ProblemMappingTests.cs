using AgentGateway.Silo.Problems;

namespace AgentGateway.Silo.Tests;

public sealed class ProblemMappingTests
{
    [Theory]
    [InlineData(400, "bad-request")]
    [InlineData(404, "not-found")]
    [InlineData(405, "method-not-allowed")]
    [InlineData(408, "http-408")]
    [InlineData(431, "http-431")]
    [InlineData(500, "internal-error")]
    [InlineData(502, "internal-error")]
    [InlineData(503, "unavailable")]
    public void ForStatus_BareErrorStatus_StableType(int status, string code)
    {
        var problem = GatewayProblem.ForStatus(status)!;

        problem.Code.ShouldBe(code);
        problem.Type.ShouldBe("urn:agent-gateway:problem:" + code);
        problem.Title.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData(200)]
    [InlineData(302)]
    public void ForStatus_NotAnError_Null(int status) => GatewayProblem.ForStatus(status).ShouldBeNull();
}
