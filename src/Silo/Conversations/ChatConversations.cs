using System.Net.WebSockets;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Runtime;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.Limits;
using AgentGateway.Silo.Routing;
using AgentGateway.Silo.Telemetry;
using Microsoft.Extensions.Options;

namespace AgentGateway.Silo.Conversations;

/// <summary>What every conversation actor shares: the services it calls and its settings.</summary>
public sealed class ConversationContext
{
    private readonly GovernanceOptions _governance;
    private readonly ILogger _logger;
    private ActorHost<string, ConversationActor>? _host;

    public ConversationContext(
        IGrainFactory grains,
        ModelCatalog models,
        ModelRouter router,
        ChatSocketOptions options,
        GatewayOptions gateway,
        GovernanceOptions governance,
        GatewayMetrics metrics,
        TimeProvider time,
        ILogger logger,
        TenantRateLimits limits,
        AnswerCache cache)
    {
        Limits = limits;
        Cache = cache;
        Grains = grains;
        Models = models;
        Router = router;
        Options = options;
        Metrics = metrics;
        Time = time;
        _governance = governance;
        _logger = logger;
        FallbackMessage = gateway.FallbackMessage;
        StreamGrantTokens = governance.StreamGrantTokens;
        DefaultModel = string.IsNullOrWhiteSpace(options.DefaultModel) ? models.Models.First().Name : options.DefaultModel;
    }

    public IGrainFactory Grains { get; }

    public ISessionGrain Session(string sessionId) => Grains.GetGrain<ISessionGrain>(sessionId);

    /// <summary>The tenants' RPM and TPM limits.</summary>
    public TenantRateLimits Limits { get; }

    /// <summary>The answer cache, looked up before each model call.</summary>
    public AnswerCache Cache { get; }

    public ModelCatalog Models { get; }

    public ModelRouter Router { get; }

    public ChatSocketOptions Options { get; }

    public GatewayMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public string FallbackMessage { get; }

    public int StreamGrantTokens { get; }

    public string DefaultModel { get; }

    internal void Bind(ActorHost<string, ConversationActor> host) => _host = host;

    /// <summary>A one-way message to a conversation (from a running call or a timer).</summary>
    public void Post<TState>(string sessionId, TState state, Func<ConversationActor, TState, ValueTask> turn)
    {
        try
        {
            _host!.Tell(sessionId, state, turn);
        }
        catch (ObjectDisposedException)
        {
            // The node is shutting down.
        }
    }

    /// <summary>Reports a call's usage (one-way).</summary>
    public void Settle(string sessionId, CallSettlement settlement)
    {
        Metrics.Tokens(settlement.InputTokens, settlement.OutputTokens);
        _ = Session(sessionId).SettleAsync(settlement);
    }

    /// <summary>The view of a session that has never been seen: active, nothing counted.</summary>
    public SessionView NewSessionView(string sessionId) => new(
        sessionId, "active", null, null, 0, _governance.MaxLoops, 0, 0, _governance.TokenBudget, (int)_governance.Window.TotalSeconds, 0, null);
}

/// <summary>
/// The chat sockets of this node: one <see cref="ConversationActor"/> per session with sockets open (or a call
/// running), on the same actor host as the sessions. Each accepted WebSocket becomes a <see cref="ChatConnection"/>
/// attached to its session's conversation.
/// </summary>
public sealed class ChatConversations : IAsyncDisposable
{
    private readonly ActorHost<string, ConversationActor> _host;
    private readonly ConversationContext _context;
    private readonly ILogger<ChatConnection> _connectionLogger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ChatConnection, byte> _open = new();

    public ChatConversations(
        IGrainFactory grains,
        ModelCatalog models,
        ModelRouter router,
        IOptions<ChatSocketOptions> options,
        IOptions<GatewayOptions> gateway,
        IOptions<GovernanceOptions> governance,
        IOptions<ActorHostOptions> hostOptions,
        GatewayMetrics metrics,
        TimeProvider time,
        ILoggerFactory loggers,
        IHostApplicationLifetime lifetime,
        TenantRateLimits limits,
        AnswerCache cache)
    {
        lifetime.ApplicationStopping.Register(CloseAll);
        _context = new ConversationContext(
            grains, models, router, options.Value, gateway.Value, governance.Value, metrics, time, loggers.CreateLogger<ConversationActor>(), limits, cache);
        _host = new ActorHost<string, ConversationActor>(
            id => new ConversationActor(id, _context),
            hostOptions.Value,
            time,
            loggers.CreateLogger<ActorHost<string, ConversationActor>>(),
            StringComparer.Ordinal);
        _context.Bind(_host);
        _connectionLogger = loggers.CreateLogger<ChatConnection>();
    }

    /// <summary>Sockets open on this node.</summary>
    public int SocketCount => _open.Count;

    /// <summary>Conversations live on this node.</summary>
    public int ConversationCount => _host.ActivationCount;

    /// <summary>Raised when the node starts closing a socket (its <see cref="ChatConnection.CloseCode"/> is set), or the client closed it.</summary>
    public event Action<ChatConnection>? Closing;


    /// <summary>Serves one accepted socket until it closes.</summary>
    public async Task RunAsync(string sessionId, string tenant, WebSocket socket)
    {
        var connection = new ChatConnection(sessionId, socket, _context.Options, _context.Time, _connectionLogger, c => Closing?.Invoke(c))
        {
            Tenant = tenant,
        };
        _open.TryAdd(connection, 0);
        _context.Metrics.SocketOpened();
        var attached = false;
        try
        {
            try
            {
                attached = await _host.AskAsync(sessionId, connection, static (actor, c, ct) => actor.AttachAsync(c, ct)).ConfigureAwait(false);
            }
            catch (MailboxFullException)
            {
            }

            if (!attached)
            {
                connection.Close(ChatProtocol.CloseCodes.TooManySockets, "too many sockets on this session");
            }

            await connection.RunAsync(OnMessageAsync, OnBadFrame).ConfigureAwait(false);
        }
        finally
        {
            if (attached)
            {
                _context.Post(sessionId, connection, static (actor, c) => actor.DetachAsync(c));
            }

            _open.TryRemove(connection, out _);
            _context.Metrics.SocketClosed(connection.CloseCode);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The node is stopping: every socket is closed with 1001 (going away).</summary>
    public void CloseAll()
    {
        foreach (var (connection, _) in _open)
        {
            connection.Close(1001, "the node is shutting down");
        }
    }

    private async ValueTask OnMessageAsync(ChatConnection connection, ReadOnlyMemory<byte> utf8)
    {
        if (!ChatProtocol.TryParse(utf8.Span, out var message, out var error))
        {
            OnBadFrame(connection, error);
            return;
        }

        if (message.Type == ClientMessageType.Ping)
        {
            connection.Send(ChatProtocol.Pong(message.Id));
            return;
        }

        try
        {
            // One message at a time per socket: the next is read only after the conversation has taken this one.
            await _host.AskAsync(
                connection.SessionId,
                (connection, message),
                static async (actor, m, ct) =>
                {
                    await actor.HandleAsync(m.connection, m.message, ct).ConfigureAwait(false);
                    return true;
                }).ConfigureAwait(false);
        }
        catch (MailboxFullException)
        {
            connection.Send(ChatProtocol.Error(ChatProtocol.Codes.SessionBusy, $"Session '{connection.SessionId}' has too many messages waiting; retry shortly."));
        }
    }

    private static void OnBadFrame(ChatConnection connection, ProtocolError error)
        => connection.Send(ChatProtocol.Error(error.Code, error.Message));

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
