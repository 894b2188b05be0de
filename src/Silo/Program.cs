using AgentGateway.Silo.Apis;
using AgentGateway.Silo.Auth;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Conversations;
using AgentGateway.Silo.Hosting;

// One gateway node: an Orleans silo (the session, breaker and alert grains) co-hosted with its Kestrel front end.
// The content root is the app's own folder, so appsettings.json applies whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGatewayDefaults();
builder.AddGatewayAuth();
builder.AddSilo();
builder.AddStateStores();
builder.AddCacheAndLimits();
builder.AddModelProviders();
builder.AddModelBreakers();
builder.AddAlerts();
builder.AddChatSockets();

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
