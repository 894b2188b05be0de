using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;

namespace AgentGateway.Storage.DynamoDb;

/// <summary>
/// The compact binary form of session and breaker state kept in the <c>state</c> attribute: a format byte, then every
/// field in declaration order (integers 7-bit encoded, strings UTF-8 with a length prefix, times as ticks plus the
/// offset in minutes). A session with a full audit trail of 50 entries stays well under DynamoDB's 1 KB write unit
/// unless operators write long notes; JSON with property names would take several units.
/// </summary>
/// <remarks>Every field round-trips exactly (including offsets and <see cref="DateTime.Kind"/>). Never change a format: add one.</remarks>
public static class StateCodec
{
    private const byte SessionFormat1 = 1;
    private const byte BreakerFormat1 = 1;

    /// <summary>Format 1 and the half-open probe slots and last ticket (shared by the nodes since probes are stored).</summary>
    private const byte BreakerFormat2 = 2;

    public static byte[] Encode(SessionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var stream = new MemoryStream(128);
        using (var w = new BinaryWriter(stream))
        {
            w.Write(SessionFormat1);
            w.Write(state.SessionId);
            w.Write7BitEncodedInt64(state.Version);
            w.Write((byte)state.Status);
            w.Write((byte)state.TripReason);
            WriteTime(w, state.TrippedAt);
            w.Write7BitEncodedInt(state.LoopCount);
            w.Write7BitEncodedInt64(state.ModelCalls);
            w.Write(state.CurrentTask);
            WriteArray(w, state.RecentTasks, static (w, v) => w.Write(v));
            WriteArray(w, state.WindowBuckets, static (w, v) => w.Write7BitEncodedInt64(v));
            WriteArray(w, state.WindowTokens, static (w, v) => w.Write7BitEncodedInt64(v));
            WriteTime(w, state.UpdatedAt);
            WriteString(w, state.Owner);
            if (state.Audit is null)
            {
                w.Write7BitEncodedInt(-1);
            }
            else
            {
                w.Write7BitEncodedInt(state.Audit.Length);
                foreach (var entry in state.Audit)
                {
                    w.Write(entry.At.ToBinary());
                    w.Write((byte)entry.Kind);
                    w.Write((byte)entry.Decision);
                    w.Write((byte)entry.TripReason);
                    w.Write7BitEncodedInt(entry.LoopCount);
                    w.Write7BitEncodedInt64(entry.TokensInWindow);
                    WriteString(w, entry.Note);
                }
            }
        }

        return stream.ToArray();
    }

    public static SessionState DecodeSession(ReadOnlySpan<byte> bytes)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(stream);
        var format = r.ReadByte();
        if (format != SessionFormat1)
        {
            throw new InvalidDataException($"Unknown session state format {format}.");
        }

        var sessionId = r.ReadString();
        var version = r.Read7BitEncodedInt64();
        var status = (SessionStatus)r.ReadByte();
        var tripReason = (TripReason)r.ReadByte();
        var trippedAt = ReadOptionalTime(r);
        var loopCount = r.Read7BitEncodedInt();
        var modelCalls = r.Read7BitEncodedInt64();
        var currentTask = r.ReadUInt64();
        var recentTasks = ReadArray(r, static r => r.ReadUInt64());
        var windowBuckets = ReadArray(r, static r => r.Read7BitEncodedInt64());
        var windowTokens = ReadArray(r, static r => r.Read7BitEncodedInt64());
        var updatedAt = ReadOptionalTime(r) ?? throw new InvalidDataException("A session state without its update time.");
        var owner = ReadString(r);
        var auditCount = r.Read7BitEncodedInt();
        SessionAuditEntry[]? audit = null;
        if (auditCount >= 0)
        {
            audit = new SessionAuditEntry[auditCount];
            for (var i = 0; i < auditCount; i++)
            {
                audit[i] = new SessionAuditEntry(
                    DateTime.FromBinary(r.ReadInt64()),
                    (SessionAuditKind)r.ReadByte(),
                    (SessionAuditDecision)r.ReadByte(),
                    (TripReason)r.ReadByte(),
                    r.Read7BitEncodedInt(),
                    r.Read7BitEncodedInt64(),
                    ReadString(r));
            }
        }

        return new SessionState(
            sessionId, version, status, tripReason, trippedAt, loopCount, modelCalls, currentTask,
            recentTasks, windowBuckets, windowTokens, updatedAt, owner, audit);
    }

    public static byte[] Encode(BreakerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var stream = new MemoryStream(96);
        using (var w = new BinaryWriter(stream))
        {
            w.Write(BreakerFormat2);
            w.Write(state.Name);
            w.Write7BitEncodedInt64(state.Version);
            w.Write7BitEncodedInt((int)state.Status);
            WriteTime(w, state.ChangedAt);
            WriteTime(w, state.NextHalfOpenAt);
            w.Write(state.BreakDuration.Ticks);
            w.Write7BitEncodedInt(state.ConsecutiveFailures);
            w.Write7BitEncodedInt64(state.OpenCount);
            WriteArray(w, state.WindowBuckets, static (w, v) => w.Write7BitEncodedInt64(v));
            WriteArray(w, state.WindowSuccesses, static (w, v) => w.Write7BitEncodedInt(v));
            WriteArray(w, state.WindowFailures, static (w, v) => w.Write7BitEncodedInt(v));
            WriteTime(w, state.UpdatedAt);
            WriteArray(w, state.ProbeTickets ?? [], static (w, v) => w.Write7BitEncodedInt64(v));
            WriteArray(w, state.ProbeAcquiredAt ?? [], static (w, v) => w.Write(v));
            w.Write7BitEncodedInt64(state.LastTicket);
        }

        return stream.ToArray();
    }

    public static BreakerState DecodeBreaker(ReadOnlySpan<byte> bytes)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(stream);
        var format = r.ReadByte();
        if (format is not (BreakerFormat1 or BreakerFormat2))
        {
            throw new InvalidDataException($"Unknown breaker state format {format}.");
        }

        var state = new BreakerState(
            Name: r.ReadString(),
            Version: r.Read7BitEncodedInt64(),
            Status: (BreakerStatus)r.Read7BitEncodedInt(),
            ChangedAt: ReadOptionalTime(r),
            NextHalfOpenAt: ReadOptionalTime(r),
            BreakDuration: TimeSpan.FromTicks(r.ReadInt64()),
            ConsecutiveFailures: r.Read7BitEncodedInt(),
            OpenCount: r.Read7BitEncodedInt64(),
            WindowBuckets: ReadArray(r, static r => r.Read7BitEncodedInt64()),
            WindowSuccesses: ReadArray(r, static r => r.Read7BitEncodedInt()),
            WindowFailures: ReadArray(r, static r => r.Read7BitEncodedInt()),
            UpdatedAt: ReadOptionalTime(r) ?? throw new InvalidDataException("A breaker state without its update time."));
        if (format == BreakerFormat1)
        {
            return state;
        }

        var tickets = ReadArray(r, static r => r.Read7BitEncodedInt64());
        var acquired = ReadArray(r, static r => r.ReadInt64());
        return state with
        {
            ProbeTickets = tickets.Length == 0 ? null : tickets,
            ProbeAcquiredAt = acquired.Length == 0 ? null : acquired,
            LastTicket = r.Read7BitEncodedInt64(),
        };
    }

    private static void WriteTime(BinaryWriter w, DateTimeOffset? time)
    {
        if (time is not { } t)
        {
            w.Write(false);
            return;
        }

        w.Write(true);
        w.Write(t.Ticks);
        w.Write7BitEncodedInt((int)(t.Offset.Ticks / TimeSpan.TicksPerMinute));
    }

    private static DateTimeOffset? ReadOptionalTime(BinaryReader r) =>
        r.ReadBoolean() ? new DateTimeOffset(r.ReadInt64(), TimeSpan.FromMinutes(r.Read7BitEncodedInt())) : null;

    private static void WriteString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static string? ReadString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static void WriteArray<T>(BinaryWriter w, T[] values, Action<BinaryWriter, T> write)
    {
        w.Write7BitEncodedInt(values.Length);
        foreach (var value in values)
        {
            write(w, value);
        }
    }

    private static T[] ReadArray<T>(BinaryReader r, Func<BinaryReader, T> read)
    {
        var length = r.Read7BitEncodedInt();
        if (length < 0 || length > r.BaseStream.Length)
        {
            throw new InvalidDataException($"An array of {length} items in a state of {r.BaseStream.Length} bytes.");
        }

        var values = new T[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = read(r);
        }

        return values;
    }
}
