using System.ComponentModel.DataAnnotations;

namespace AgentGateway.Silo.Hosting;

/// <summary>Front-end settings (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Largest accepted request body in bytes; larger bodies get 413. Default 1 MiB.</summary>
    [Range(1024L, 256L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    /// <summary>The text every governed refusal and unrecoverable failure answers with.</summary>
    [Required]
    [MinLength(1)]
    public string FallbackMessage { get; set; } = DefaultFallbackMessage;

    public const string DefaultFallbackMessage = "This task requires manual human-in-the-loop review.";
}
