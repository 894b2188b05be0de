using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Silo.Conversations;

/// <summary>WebSocket chat settings (configuration section <c>Chat</c>); see docs/websocket.md.</summary>
public sealed class ChatSocketOptions : IValidatableObject
{
    public const string SectionName = "Chat";

    /// <summary>The model a <c>user_message</c> without one uses. Empty: the first served model.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Largest client message in bytes; a larger one closes the socket with 1009. Default 64 KiB.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Messages queued for one socket before a stream waits for it. Default 512.</summary>
    [Range(8, 1_000_000)]
    public int SendQueueCapacity { get; set; } = 512;

    /// <summary>How long a socket may stay behind (its queue filled and not since run empty) before it is closed with 4008. Default 10 s.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a pending tool call waits for its <c>tool_result</c>. Default 60 s.</summary>
    public TimeSpan ToolResultTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A socket with no client message for this long is closed with 4001. Default 10 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Protocol-level ping interval (WebSocket ping frames). Default 30 s; zero turns them off.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a close handshake may take before the connection is aborted. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sockets one session may have open at once (tabs); one more is closed with 4029. Default 8.</summary>
    [Range(1, 1024)]
    public int MaxSocketsPerSession { get; set; } = 8;

    /// <summary>Messages a conversation keeps (the oldest go first; the model sees what is kept). Default 200.</summary>
    [Range(2, 100_000)]
    public int MaxHistoryMessages { get; set; } = 200;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value, min) in new[]
        {
            (nameof(ToolResultTimeout), ToolResultTimeout, TimeSpan.FromMilliseconds(1)),
            (nameof(IdleTimeout), IdleTimeout, TimeSpan.FromSeconds(1)),
            (nameof(CloseTimeout), CloseTimeout, TimeSpan.FromMilliseconds(1)),
            (nameof(SendTimeout), SendTimeout, TimeSpan.FromMilliseconds(1)),
            (nameof(KeepAliveInterval), KeepAliveInterval, TimeSpan.Zero),
        })
        {
            if (value < min)
            {
                yield return new ValidationResult($"{SectionName}:{name} must be at least {min} (was {value}).", [name]);
            }
        }
    }
}
