namespace AgentGateway.Contracts.Sessions;

/// <summary>
/// Whether a session may call models (<c>active</c>), waits for an operator (<c>tripped</c>), or was ended by one
/// (<c>ended</c>: every call refused for good; it cannot be resumed).
/// </summary>
public enum SessionStatus : byte
{
    Active = 0,
    Tripped = 1,
    Ended = 2,
}

public static class SessionStatusNames
{
    public const string Active = "active";
    public const string Tripped = "tripped";
    public const string Ended = "ended";

    public static string ToWireName(this SessionStatus status) => status switch
    {
        SessionStatus.Tripped => Tripped,
        SessionStatus.Ended => Ended,
        _ => Active,
    };

    public static bool TryParse(string? name, out SessionStatus status)
    {
        (var known, status) = name switch
        {
            Active => (true, SessionStatus.Active),
            Tripped => (true, SessionStatus.Tripped),
            Ended => (true, SessionStatus.Ended),
            _ => (false, SessionStatus.Active),
        };
        return known;
    }
}
