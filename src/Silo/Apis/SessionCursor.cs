using System.Buffers.Text;
using System.Text;
using AgentGateway.Silo.Hosting;

namespace AgentGateway.Silo.Apis;

/// <summary>
/// The session list's paging cursor: the last session id of a page, base64url-encoded so clients treat it as opaque
/// (a DynamoDB catalog can put its last evaluated key behind the same string later).
/// </summary>
public static class SessionCursor
{
    public static string Encode(string lastSessionId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastSessionId));

    public static bool TryDecode(string cursor, out string? lastSessionId)
    {
        lastSessionId = null;
        try
        {
            var id = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (!SessionIds.IsValid(id))
            {
                return false;
            }

            lastSessionId = id;
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
