namespace AgentGateway.Contracts.Logging;

/// <summary>
/// The first <c>LoggerMessage</c> event id of each area: an area's messages are numbered from its base, up to 99
/// more, so no two messages anywhere share an id (docs/logging.md lists them).
/// </summary>
public static class LogEvents
{
    public const int Sessions = 1100;
    public const int Breakers = 1200;
    public const int Alerts = 1300;
    public const int Conversations = 1400;
    public const int Pipeline = 2100;
    public const int Routing = 2200;
    public const int Sockets = 2300;
    public const int Cache = 2400;
    public const int Storage = 2500;
    public const int Redis = 2600;
    public const int Hosting = 2700;
    public const int Auth = 2800;
    public const int Dashboard = 2900;
}
