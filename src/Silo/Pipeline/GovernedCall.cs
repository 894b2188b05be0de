using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Models;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Pipeline;

/// <summary>One model call a transport asks for (a REST request, an SSE stream, a WebSocket conversation's turn).</summary>
/// <param name="SessionId">The session that governs it.</param>
/// <param name="Tenant">The caller's tenant: owns the session, pays under its rate limits; null claims nothing.</param>
/// <param name="Model">The served model asked for.</param>
/// <param name="Messages">What is sent to the model.</param>
/// <param name="Options">The model call's options (tools, limits).</param>
/// <param name="Turn">What governance needs from it (task, kind, estimated input tokens).</param>
public sealed record GovernedCall(
    string SessionId,
    string? Tenant,
    ModelEntry Model,
    IList<ChatMessage> Messages,
    ChatOptions Options,
    TurnInfo Turn);

/// <summary>Who pays a call's tokens under the tenants' limits, and the estimate charged for it so far.</summary>
public readonly record struct TenantCharge(string? Tenant, long Tokens)
{
    public static readonly TenantCharge None = default;
}

/// <summary>What admission decided.</summary>
public enum AdmissionOutcome
{
    /// <summary>Counted: the call may go ahead.</summary>
    Admitted,

    /// <summary>Governance refused it (a trip, or an ended session): the transport answers with the fallback.</summary>
    Refused,

    /// <summary>Another tenant owns the session; nothing was counted.</summary>
    Forbidden,

    /// <summary>The session's store refused the write; nothing was counted: the caller may retry.</summary>
    Busy,
}

/// <summary>
/// An admission and what the rest of the call needs: the session grain (for stream grants and the settlement), the
/// decision, and the tenant's charge. Refusals have already given the tenant's charge back.
/// </summary>
public sealed record AdmittedCall(GovernedCall Call, ISessionGrain Session, Admission Admission, TenantCharge Charge, string? CacheKey)
{
    public AdmissionOutcome Outcome => Admission switch
    {
        { Allowed: true } => AdmissionOutcome.Admitted,
        { Forbidden: true } => AdmissionOutcome.Forbidden,
        { Busy: true } => AdmissionOutcome.Busy,
        _ => AdmissionOutcome.Refused,
    };
}
