namespace AgentGateway.Governance.Breakers;

/// <summary>How a call ended, as the caller reports it; slowness is judged separately from the call's duration.</summary>
public enum BreakerOutcome
{
    /// <summary>The model answered (2xx, 3xx). Still a failure if it took longer than the slow-call threshold.</summary>
    Success = 0,

    /// <summary>Server error (5xx), timeout (408 or no answer in time), throttling (429) or transport failure.</summary>
    Failure = 1,

    /// <summary>The caller's own fault (4xx other than 408 and 429): says nothing about the model's health.</summary>
    Ignored = 2,
}
