namespace AgentGateway.Contracts.Sessions;

/// <summary>What a request is, as far as governance cares.</summary>
public enum TurnKind
{
    /// <summary>The last message is the human's: it may start a new task.</summary>
    UserMessage = 0,

    /// <summary>The last message is a tool result (or anything but a user message): the task goes on.</summary>
    Continuation = 1,
}

/// <summary>
/// One model call a client asks for, reduced to what governance needs.
/// </summary>
/// <param name="Kind">User message or continuation.</param>
/// <param name="TaskFingerprint">
/// A stable hash of the human message that began the task (its text and its position among the user
/// messages), so a re-sent history maps to the task it began rather than to a new one.
/// </param>
/// <param name="EstimatedInputTokens">Input tokens reserved before the call; settled to the real usage after it.</param>
/// <param name="Tenant">
/// The caller's tenant. The first tenant to use a session owns it; another tenant's call is refused as
/// <see cref="Admission.Forbidden"/>. Null: a caller with no tenant (it claims nothing and may use only unowned sessions).
/// </param>
/// <param name="Model">The model asked for (named in a trip's alert; not part of the decision).</param>
[GenerateSerializer]
public readonly record struct TurnInfo([property: Id(0)] TurnKind Kind, [property: Id(1)] ulong TaskFingerprint, [property: Id(2)] int EstimatedInputTokens, [property: Id(3)] string? Tenant = null, [property: Id(4)] string? Model = null);
