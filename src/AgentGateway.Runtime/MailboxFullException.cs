namespace AgentGateway.Runtime;

/// <summary>A message was refused because the target activation's bounded mailbox is full.</summary>
public sealed class MailboxFullException(string actorKey, int capacity)
    : Exception($"The mailbox of actor '{actorKey}' is full ({capacity} messages waiting).")
{
    public string ActorKey { get; } = actorKey;

    public int Capacity { get; } = capacity;
}
