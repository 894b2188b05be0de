namespace AgentGateway.Actors.Breakers;

/// <summary>A breaker's change could not be stored: other nodes kept writing the same breaker.</summary>
public sealed class BreakerConflictException(string model, int attempts)
    : Exception($"The breaker of model '{model}' could not be written after {attempts} attempts: other nodes kept writing it.")
{
    public string Model { get; } = model;
}
