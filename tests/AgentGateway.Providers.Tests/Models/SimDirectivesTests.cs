using AgentGateway.Providers.Models;

namespace AgentGateway.Providers.Tests.Models;

public sealed class SimDirectivesTests
{
    [Theory]
    [InlineData("plain question", false, null, null, null)]
    [InlineData("[[sim:loop]] keep going", true, null, null, null)]
    [InlineData("write [[sim:tokens=4000]]", false, 4000, null, null)]
    [InlineData("[[sim:error=503]]", false, null, 503, null)]
    [InlineData("[[sim:latency=250]]", false, null, null, 250)]
    [InlineData("[[sim:tokens=3]] and [[sim:latency=5]] and [[sim:loop]]", true, 3, null, 5)]
    [InlineData("[[sim:error=500@haiku]]", false, null, 500, null)]
    [InlineData("[[sim:error=500@sonnet]]", false, null, null, null)]
    [InlineData("[[sim:error=500@HAIKU]]", false, null, 500, null)]
    [InlineData("[[sim:error=200]] [[sim:error=999]]", false, null, null, null)]
    [InlineData("[[sim:tokens=-1]] [[sim:tokens=abc]] [[sim:unknown=1]]", false, null, null, null)]
    [InlineData("[[sim:tokens=99999999999]]", false, null, null, null)]
    public void Parse_Text_DirectivesForThisModel(string text, bool loop, int? tokens, int? error, int? latency)
        => SimDirectives.Parse(text, "haiku").ShouldBe(new SimDirectives(loop, tokens, error, latency));
}
