namespace AgentGateway.Silo.Hosting;

/// <summary>Session ids: 1–128 characters of letters, digits and <c>. _ : -</c>.</summary>
public static class SessionIds
{
    public const string Header = "X-Session-Id";
    public const int MaxLength = 128;

    public static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static string New() => "sess_" + Guid.CreateVersion7().ToString("N");
}
