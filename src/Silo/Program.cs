using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Hosting;

// One gateway node ("silo"): the OpenAI-compatible front end and the session actors in one process.
var builder = WebApplication.CreateBuilder(args);
builder.AddGatewayDefaults();
builder.AddSessionGovernance();
builder.AddModelProviders();

var app = builder.Build();
app.UseGatewayDefaults();
app.MapChatCompletionsApi();
app.MapAdminApi();
app.Run();

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
