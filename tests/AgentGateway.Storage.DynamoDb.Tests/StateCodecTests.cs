using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;

namespace AgentGateway.Storage.DynamoDb.Tests;

public sealed class StateCodecTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Encode_FullyGrownSessionWithDefaultLimits_SizeAsDocumented()
    {
        // Defaults: 16 recent tasks, 10 window buckets, 50 audit entries (no operator notes).
        var options = new GovernanceOptions();
        var state = new SessionState(
            "sess_0193a4b2c3d4e5f60718293a4b5c6d7e", 1234, SessionStatus.Active, TripReason.None, null, 4, 123_456, ulong.MaxValue,
            [.. Enumerable.Range(0, options.RecentTasks).Select(i => ulong.MaxValue - (ulong)i)],
            [.. Enumerable.Range(0, options.WindowBuckets).Select(i => 29_488_320L + i)],
            [.. Enumerable.Range(0, options.WindowBuckets).Select(_ => 9_999L)],
            At, "tenant-a",
            [.. Enumerable.Range(0, options.AuditEntries).Select(i => new SessionAuditEntry(At.UtcDateTime.AddSeconds(i), SessionAuditKind.Continuation, SessionAuditDecision.Admitted, TripReason.None, 5, 9_999))]);

        var bytes = StateCodec.Encode(state);

        StateCodec.DecodeSession(bytes).Audit.ShouldBe(state.Audit);
        bytes.Length.ShouldBeInRange(1000, 1100);
    }

    [Fact]
    public void DecodeSession_UnknownFormat_Throws()
        => Should.Throw<InvalidDataException>(() => StateCodec.DecodeSession([9, 0]));
}
