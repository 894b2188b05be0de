using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentGateway.Providers.Models;

/// <summary>
/// Script for the simulated model, read from the user message: <c>[[sim:loop]]</c>, <c>[[sim:tokens=N]]</c>,
/// <c>[[sim:error=CODE]]</c>, <c>[[sim:latency=MS]]</c>, <c>[[sim:pace=MS]]</c> (a pause before each streamed token after
/// the first); a directive with <c>@model</c> applies to that model only.
/// </summary>
public readonly partial record struct SimDirectives(
    bool Loop, int? Tokens, int? ErrorStatus, int? LatencyMilliseconds, bool Stall = false, int? PaceMilliseconds = null)
{
    public const int MaxTokens = 1_000_000;
    public const int MaxLatencyMilliseconds = 600_000;

    public const int MaxPaceMilliseconds = 60_000;

    public bool IsEmpty => !Loop && Tokens is null && ErrorStatus is null && LatencyMilliseconds is null && !Stall && PaceMilliseconds is null;

    /// <summary>The directives in <paramref name="text"/> that apply to <paramref name="model"/>.</summary>
    public static SimDirectives Parse(ReadOnlySpan<char> text, string model)
    {
        if (text.IndexOf("[[sim:", StringComparison.Ordinal) < 0)
        {
            return default;
        }

        var loop = false;
        int? tokens = null, error = null, latency = null, pace = null;
        foreach (var match in DirectivePattern().EnumerateMatches(text))
        {
            var m = DirectivePattern().Match(text.Slice(match.Index, match.Length).ToString());
            var target = m.Groups["model"];
            if (target.Success && !string.Equals(target.Value, model, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = m.Groups["value"];
            switch (m.Groups["name"].Value)
            {
                case "loop":
                    loop = true;
                    break;
                case "tokens" when TryInt(value, 0, MaxTokens, out var n):
                    tokens = n;
                    break;
                case "error" when TryInt(value, 400, 599, out var code):
                    error = code;
                    break;
                case "latency" when TryInt(value, 0, MaxLatencyMilliseconds, out var ms):
                    latency = ms;
                    break;
                case "pace" when TryInt(value, 0, MaxPaceMilliseconds, out var gap):
                    pace = gap;
                    break;
            }
        }

        return new SimDirectives(loop, tokens, error, latency, PaceMilliseconds: pace);
    }

    private static bool TryInt(Group group, int min, int max, out int value)
        => int.TryParse(group.Value, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    [GeneratedRegex(@"\[\[sim:(?<name>[a-z]+)(?:=(?<value>[0-9]+))?(?:@(?<model>[A-Za-z0-9._:-]+))?\]\]", RegexOptions.CultureInvariant)]
    private static partial Regex DirectivePattern();
}
