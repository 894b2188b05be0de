using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace AgentGateway.Silo.Auth;

/// <summary>
/// The configured keys and whom each stands for. Keys are kept only as SHA-256 hashes, and a presented key is
/// hashed and compared with every stored hash by <see cref="CryptographicOperations.FixedTimeEquals"/>, without
/// stopping at a match: how long a lookup takes depends neither on how much of a key was right, nor on its length,
/// nor on which entry matched.
/// </summary>
public sealed class ApiKeyRing
{
    private const int HashBytes = SHA256.HashSizeInBytes;
    private readonly (byte[] Hash, GatewayCaller Caller)[] _entries;

    public ApiKeyRing(AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var entries = new List<(byte[], GatewayCaller)>();
        if (options.HasAdminKey)
        {
            entries.Add((Hash(options.AdminApiKey!), GatewayCaller.Admin));
        }

        foreach (var (name, tenant) in options.Tenants)
        {
            if (!string.IsNullOrEmpty(tenant?.ApiKey))
            {
                entries.Add((Hash(tenant.ApiKey), GatewayCaller.ForTenant(name)));
            }
        }

        _entries = [.. entries];
        HasAdminKey = options.HasAdminKey;
        HasTenants = entries.Any(e => !e.Item2.IsAdmin);
    }

    public bool HasAdminKey { get; }

    public bool HasTenants { get; }

    /// <summary>Whom <paramref name="presented"/> stands for, or null when it is no configured key.</summary>
    public GatewayCaller? Find(ReadOnlySpan<char> presented)
    {
        Span<byte> hash = stackalloc byte[HashBytes];
        Hash(presented, hash);
        GatewayCaller? found = null;
        foreach (var (stored, caller) in _entries)
        {
            // No early exit: every entry is compared whatever matched before.
            if (CryptographicOperations.FixedTimeEquals(hash, stored))
            {
                found = caller;
            }
        }

        return found;
    }

    private static byte[] Hash(string key)
    {
        var hash = new byte[HashBytes];
        Hash(key, hash);
        return hash;
    }

    private static void Hash(ReadOnlySpan<char> key, Span<byte> hash)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(key.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(key, rented);
            SHA256.HashData(rented.AsSpan(0, length), hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
