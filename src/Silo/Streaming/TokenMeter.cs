using AgentGateway.Contracts.Sessions;
using AgentGateway.Providers.Models;
using Microsoft.Extensions.AI;

namespace AgentGateway.Silo.Streaming;

/// <summary>
/// Counts one streaming call's output against the session's token-velocity budget as it arrives: every chunk
/// is paid for before it is passed on. Tokens are taken from the session grain in grants (one call per
/// <c>Governance:StreamGrantTokens</c>, not per chunk); a chunk that does not fit in what is left of the budget
/// is refused, and the session trips with token_velocity in that same grain turn.
/// </summary>
/// <remarks>One meter per call, used by one reader at a time (the stream's pump). Not thread-safe.</remarks>
public sealed class TokenMeter(ISessionGrain session, Admission admission, int grantTokens, string? model = null)
{
    private long _held;

    /// <summary>Tokens charged to the window for this call so far: the input reservation plus the grants.</summary>
    public long Charged { get; private set; } = admission.ReservedInputTokens;

    /// <summary>Output tokens counted (the gateway's estimate), the refused chunk's included.</summary>
    public long Counted { get; private set; }

    /// <summary>Output tokens passed on to the client.</summary>
    public long Delivered { get; private set; }

    /// <summary>Why the stream was refused (None while it may go on).</summary>
    public TripReason CutOff { get; private set; }

    /// <summary>Whether the refusal tripped the session (rather than finding it tripped already).</summary>
    public bool NewlyTripped { get; private set; }

    /// <summary>The gateway's token count for one chunk: a quarter of its characters, at least one.</summary>
    public static int TokensOf(string? text, IReadOnlyList<FunctionCallContent>? calls)
    {
        long characters = text?.Length ?? 0;
        if (calls is not null)
        {
            foreach (var call in calls)
            {
                characters += call.Name.Length;
                if (call.Arguments is not null)
                {
                    foreach (var (key, value) in call.Arguments)
                    {
                        characters += key.Length + (value?.ToString()?.Length ?? 0);
                    }
                }
            }
        }

        return Math.Max(1, TokenEstimator.FromCharacters(characters));
    }

    /// <summary>Pays for a chunk of <paramref name="tokens"/> tokens; false: it must not be passed on (see <see cref="CutOff"/>).</summary>
    public ValueTask<bool> TryPassAsync(int tokens, CancellationToken cancellationToken)
    {
        if (CutOff != TripReason.None)
        {
            return ValueTask.FromResult(false);
        }

        if (tokens <= _held)
        {
            _held -= tokens;
            Counted += tokens;
            Delivered += tokens;
            return ValueTask.FromResult(true);
        }

        return ChargeAsync(tokens, cancellationToken);
    }

    /// <summary>What to report when the call ends: real usage when the provider gave it, else the counts.</summary>
    public CallSettlement Settlement(long? inputTokens, long? outputTokens)
        => new(Charged, inputTokens ?? admission.ReservedInputTokens, outputTokens ?? Counted);

    private async ValueTask<bool> ChargeAsync(int tokens, CancellationToken cancellationToken)
    {
        var needed = (int)(tokens - _held);
        cancellationToken.ThrowIfCancellationRequested();
        var grant = await session.ChargeAsync(new StreamCharge(needed, Math.Max(grantTokens, needed), model)).ConfigureAwait(false);
        Charged += grant.Charged;
        Counted += tokens;
        if (!grant.Allowed)
        {
            _held = 0;
            CutOff = grant.TripReason;
            NewlyTripped = grant.NewlyTripped;
            return false;
        }

        _held += grant.Granted - tokens;
        Delivered += tokens;
        return true;
    }
}
