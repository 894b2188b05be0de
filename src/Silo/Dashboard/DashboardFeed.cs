using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentGateway.Contracts.Alerts;
using AgentGateway.Contracts.Breakers;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Silo.Cluster;
using AgentGateway.Silo.Conversations;

namespace AgentGateway.Silo.Dashboard;

/// <summary>
/// The dashboard's push feed (<c>GET /admin/events</c>): takes a <see cref="DashboardSnapshot"/> of the node from the
/// same services the admin API reads, and writes it to a client as a Server-Sent Event named <c>snapshot</c> at once,
/// then every <see cref="Interval"/> (a delay on the injected <see cref="TimeProvider"/>) when it differs from the
/// last one that client was sent.
/// </summary>
/// <remarks>
/// Each client polls on its own timer and keeps only the last snapshot it sent (its JSON without the time stamp),
/// so a client costs one string and one snapshot per interval; nothing is queued for a slow client: the write of
/// one snapshot must finish before the next is taken. The session list is bounded: the first
/// <see cref="MaxSessions"/> sessions in catalog order (by id) plus every tripped one (up to
/// <see cref="MaxTripped"/>), so the review queue is complete.
/// </remarks>
public sealed class DashboardFeed(
    ISessionCatalog catalog,
    IModelBreakers breakers,
    IGrainFactory grains,
    GovernanceOptions governance,
    TimeProvider time,
    SiloStats silos,
    ChatConversations chats,
    TimeSpan interval)
{
    public const int MaxSessions = 200;
    public const int MaxTripped = 500;
    public const int MaxAlerts = 20;
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(500);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public TimeSpan Interval { get; } = interval;

    /// <summary>Writes snapshots to <paramref name="response"/> until <paramref name="cancellationToken"/> (the client went, or the node stops).</summary>
    public async Task StreamAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(cancellationToken).ConfigureAwait(false);

        string? lastSent = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var snapshot = await TakeAsync(cancellationToken).ConfigureAwait(false);
                var comparable = JsonSerializer.Serialize(snapshot with { At = default }, Json);
                if (!string.Equals(comparable, lastSent, StringComparison.Ordinal))
                {
                    var frame = "event: snapshot\ndata: " + JsonSerializer.Serialize(snapshot, Json) + "\n\n";
                    await response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), cancellationToken).ConfigureAwait(false);
                    await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                    lastSent = comparable;
                }

                await Task.Delay(Interval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client closed the stream or the node is stopping: the normal end of a feed.
        }
    }

    /// <summary>The node as the dashboard shows it now.</summary>
    public async Task<DashboardSnapshot> TakeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var firstPage = await catalog.ListAsync(null, MaxSessions, null, cancellationToken).ConfigureAwait(false);
        var tripped = await catalog.ListAsync(SessionStatus.Tripped, MaxTripped, null, cancellationToken).ConfigureAwait(false);

        var states = new Dictionary<string, SessionState>(StringComparer.Ordinal);
        foreach (var state in firstPage.Items.Concat(tripped.Items))
        {
            states[state.SessionId] = state;
        }

        var bucketTicks = governance.Window.Ticks / governance.WindowBuckets;
        var list = states.Values
            .Select(s => SessionOf(s, now, bucketTicks))
            .OrderBy(s => s.Status == SessionStatusNames.Tripped ? 0 : s.Status == SessionStatusNames.Active ? 1 : 2)
            .ThenByDescending(s => s.UpdatedAt)
            .ThenBy(s => s.SessionId, StringComparer.Ordinal)
            .ToList();

        var breakerList = await breakers.ListAsync(cancellationToken).ConfigureAwait(false);
        var alertList = await grains.GetGrain<IAlertGrain>(AlertGrainKeys.Outbox).ListAsync().ConfigureAwait(false);
        var recentAlerts = alertList
            .Take(MaxAlerts)
            .Select(static a => new DashboardAlert(
                a.MessageId,
                a.Kind,
                a.Severity,
                a.Text,
                a.StoredAt,
                [.. a.Deliveries.Select(static d => new DashboardDelivery(d.Sink, d.Status, d.Attempts, d.LastError))]))
            .ToList();

        // Every silo of the cluster; the conversations and sockets are this node's own (the web front end it holds).
        var nodes = (await silos.SilosAsync().ConfigureAwait(false))
            .Select(n => new DashboardNode(n.Node, n.SessionActivations, n.Self ? chats.ConversationCount : 0, n.Self ? chats.SocketCount : 0))
            .ToList();

        return new DashboardSnapshot(
            now,
            list,
            [.. breakerList.OrderBy(static b => b.Model, StringComparer.Ordinal)],
            recentAlerts,
            nodes,
            new DashboardLimits(
                MaxSessions,
                firstPage.NextCursor is not null,
                (int)governance.Window.TotalSeconds,
                TimeSpan.FromTicks(bucketTicks).TotalSeconds));
    }

    private DashboardSession SessionOf(SessionState state, DateTimeOffset now, long bucketTicks)
    {
        var view = SessionGovernor.ViewOf(state, governance, now);
        return new DashboardSession(
            view.SessionId,
            view.Status,
            view.TripReason,
            view.TrippedAt,
            view.LoopCount,
            view.MaxLoops,
            view.TokensInWindow,
            view.TokenBudget,
            view.Tenant,
            view.UpdatedAt,
            Velocity(state, now, bucketTicks, governance.WindowBuckets));
    }

    /// <summary>Tokens per bucket of the window that ends now, oldest first (buckets are numbered from the Unix epoch, as the governor numbers them).</summary>
    internal static long[] Velocity(SessionState state, DateTimeOffset now, long bucketTicks, int bucketCount)
    {
        var series = new long[bucketCount];
        var current = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / bucketTicks;
        var first = current - bucketCount + 1;
        var buckets = state.WindowBuckets;
        var tokens = state.WindowTokens;
        for (var i = 0; i < buckets.Length && i < tokens.Length; i++)
        {
            if (buckets[i] >= first && buckets[i] <= current)
            {
                series[buckets[i] - first] += tokens[i];
            }
        }

        return series;
    }

    /// <summary>Reads <c>Dashboard:Interval</c> (a TimeSpan, at least 50 ms; default 500 ms).</summary>
    internal static TimeSpan IntervalFrom(string? configured)
    {
        if (configured is null)
        {
            return DefaultInterval;
        }

        if (!TimeSpan.TryParse(configured, CultureInfo.InvariantCulture, out var value) || value < TimeSpan.FromMilliseconds(50))
        {
            throw new InvalidOperationException($"Dashboard:Interval must be a TimeSpan of at least 00:00:00.05 (was '{configured}').");
        }

        return value;
    }
}
