namespace AgentGateway.Contracts.Sessions;

/// <summary>Whether a session may call models (<c>active</c>) or waits for an operator (<c>tripped</c>).</summary>
public enum SessionStatus
{
    Active = 0,
    Tripped = 1,
}
