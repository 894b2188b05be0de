using System.Globalization;

namespace AgentGateway.LoadGen;

/// <summary>
/// <c>--name value</c>, <c>--name=value</c> and bare <c>--flag</c> arguments. Every option a mode reads is marked
/// used; <see cref="ThrowOnUnused"/> then refuses typos instead of silently running with defaults.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args)
    {
        using var e = args.GetEnumerator();
        string? pending = null;
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (pending is not null)
                {
                    _values[pending] = null;
                }

                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    _values[arg[2..eq]] = arg[(eq + 1)..];
                    pending = null;
                }
                else
                {
                    pending = arg[2..];
                }
            }
            else if (pending is not null)
            {
                _values[pending] = arg;
                pending = null;
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{arg}' (options are --name value).");
            }
        }

        if (pending is not null)
        {
            _values[pending] = null;
        }
    }

    /// <summary>Every option as given, for the report.</summary>
    public IReadOnlyDictionary<string, string?> All => _values;

    public string String(string name, string fallback) => Raw(name) ?? fallback;

    public string? OptionalString(string name) => Raw(name);

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var raw = Raw(name);
        if (raw is null)
        {
            return fallback;
        }

        if (!int.TryParse(raw.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ArgumentException($"--{name} must be an integer from {min} to {max} (was '{raw}').");
        }

        return value;
    }

    public int? OptionalInt(string name) => Raw(name) is null ? null : Int(name, 0, 1);

    public double Double(string name, double fallback, double min = 0)
    {
        var raw = Raw(name);
        if (raw is null)
        {
            return fallback;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min)
        {
            throw new ArgumentException($"--{name} must be a number of at least {min} (was '{raw}').");
        }

        return value;
    }

    /// <summary>A duration: <c>30</c> (seconds), <c>30s</c>, <c>500ms</c>, <c>2m</c>.</summary>
    public TimeSpan Duration(string name, TimeSpan fallback)
    {
        var raw = Raw(name);
        if (raw is null)
        {
            return fallback;
        }

        (string number, double scale) = raw switch
        {
            _ when raw.EndsWith("ms", StringComparison.Ordinal) => (raw[..^2], 0.001),
            _ when raw.EndsWith('s') => (raw[..^1], 1),
            _ when raw.EndsWith('m') => (raw[..^1], 60),
            _ => (raw, 1),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw new ArgumentException($"--{name} must be a duration such as 30s, 500ms or 2m (was '{raw}').");
        }

        return TimeSpan.FromSeconds(value * scale);
    }

    public bool Flag(string name, bool fallback = false)
    {
        if (!_values.ContainsKey(name))
        {
            return fallback;
        }

        var raw = Raw(name);
        return raw switch
        {
            null or "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new ArgumentException($"--{name} takes true or false (was '{raw}')."),
        };
    }

    public void ThrowOnUnused()
    {
        var unused = _values.Keys.Where(k => !_used.Contains(k)).ToArray();
        if (unused.Length > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unused.Select(u => "--" + u))}.");
        }
    }

    private string? Raw(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value) ? value : null;
    }
}
