using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Conversations;
using AgentGateway.Silo.Hosting;

// One gateway node ("silo"): the OpenAI-compatible front end and the session actors in one process.
// The content root is the app's own folder, so appsettings.json applies whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGatewayDefaults();
builder.AddGatewayAuth();
builder.AddDurableStorage();
builder.AddSessionGovernance();
builder.AddModelProviders();
builder.AddModelBreakers();
builder.AddAlerts();
builder.AddChatSockets();
builder.AddCluster();

var app = builder.Build();
app.UseGatewayDefaults();
app.UseGatewayAuth();
app.MapChatCompletionsApi();
app.MapAdminApi();
app.MapChatSockets();
app.MapChatPage();
app.MapNodeAdminApi();
app.MapClusterAdminApi();
app.MapAlertsAdminApi();
app.MapDashboard();
return app.RunGateway();

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
