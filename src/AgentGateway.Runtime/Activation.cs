using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace AgentGateway.Runtime;

/// <summary>
/// One live actor instance with its bounded mailbox and the loop that runs its turns one at a time.
/// </summary>
/// <remarks>
/// The loop starts when the first message is accepted (activation on first message), so losers of a
/// <c>GetOrAdd</c> race cost nothing. Deactivation is itself a message: when its turn comes and the
/// activation is still idle, the mailbox is closed, the activation leaves the directory, and any message
/// that slipped in before the close is handed back to the host, which delivers it to a fresh activation.
/// No message is lost and no two activations of one key run turns for the same message.
/// </remarks>
internal sealed class Activation<TKey, TActor>
    where TKey : notnull
    where TActor : Actor
{
    private readonly ActorHost<TKey, TActor> _host;
    private readonly Channel<WorkItem<TActor>> _mailbox;
    private int _started;
    private int _collectRequested;
    private long _lastActiveTimestamp;

    public Activation(ActorHost<TKey, TActor> host, TKey key, int capacity, long now)
    {
        _host = host;
        Key = key;
        _lastActiveTimestamp = now;
        _mailbox = Channel.CreateBounded<WorkItem<TActor>>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            // A sender that finds the loop parked runs the next turns on its own thread (no thread-pool hop);
            // it cannot interleave turns: the loop is parked only when no turn is running. Senders still
            // resume asynchronously when they had to wait (RunContinuationsAsynchronously on the reply).
            AllowSynchronousContinuations = true,
        });
    }

    public TKey Key { get; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    public long LastActiveTimestamp => Volatile.Read(ref _lastActiveTimestamp);

    /// <summary>Accepts a message; false when the mailbox is closed (the caller must retry on a new activation).</summary>
    public EnqueueResult TryEnqueue(WorkItem<TActor> item)
    {
        if (_mailbox.Writer.TryWrite(item))
        {
            if (Volatile.Read(ref _started) == 0 && Interlocked.CompareExchange(ref _started, 1, 0) == 0)
            {
                Completion = Task.Run(RunAsync);
            }

            return EnqueueResult.Accepted;
        }

        // TryWrite fails for a full mailbox and for a closed one; only the second is worth a retry.
        return _mailbox.Reader.Completion.IsCompleted || IsClosed ? EnqueueResult.Closed : EnqueueResult.Full;
    }

    private bool IsClosed
    {
        get => Volatile.Read(ref _closed);
        set => Volatile.Write(ref _closed, value);
    }

    private bool _closed;

    /// <summary>Posts a deactivation request once per idle period.</summary>
    public DeactivateWorkItem<TActor>? RequestCollection()
    {
        if (Interlocked.CompareExchange(ref _collectRequested, 1, 0) != 0)
        {
            return null;
        }

        var request = new DeactivateWorkItem<TActor>();
        if (TryEnqueue(request) != EnqueueResult.Accepted)
        {
            Volatile.Write(ref _collectRequested, 0);
            return null;
        }

        return request;
    }

    /// <summary>Closes the mailbox for shutdown: queued messages still run, then the actor deactivates.</summary>
    public void Close()
    {
        IsClosed = true;
        _mailbox.Writer.TryComplete();
    }

    private async Task RunAsync()
    {
        TActor actor;
        try
        {
            actor = _host.CreateActor(Key);
            await actor.OnActivateAsync(_host.ShutdownToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _host.Log.ActivationFailed(typeof(TActor).Name, Key, ex);
            CloseAndRemove();
            // Messages that were waiting fail with the activation's error; a later message activates anew.
            while (_mailbox.Reader.TryRead(out var waiting))
            {
                waiting.Fail(ex);
            }

            return;
        }

        var reader = _mailbox.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (item is DeactivateWorkItem<TActor> deactivate)
                {
                    if (reader.Count == 0 && _host.IsIdle(LastActiveTimestamp) && actor.CanDeactivate)
                    {
                        CloseAndRemove();
                        await DeactivateAsync(actor).ConfigureAwait(false);
                        HandBackLeftovers();
                        deactivate.Complete(true);
                        return;
                    }

                    Volatile.Write(ref _collectRequested, 0);
                    deactivate.Complete(false);
                    continue;
                }

                await item.ExecuteAsync(actor).ConfigureAwait(false);
                Volatile.Write(ref _lastActiveTimestamp, _host.Time.GetTimestamp());
                item.Complete();
            }
        }

        // The mailbox was closed by shutdown and has been drained.
        _host.Remove(this);
        await DeactivateAsync(actor).ConfigureAwait(false);
    }

    private void CloseAndRemove()
    {
        IsClosed = true;
        _mailbox.Writer.TryComplete();
        _host.Remove(this);
    }

    private async ValueTask DeactivateAsync(TActor actor)
    {
        try
        {
            await actor.OnDeactivateAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _host.Log.DeactivationFailed(typeof(TActor).Name, Key, ex);
        }
    }

    private void HandBackLeftovers()
    {
        while (_mailbox.Reader.TryRead(out var item))
        {
            if (item is DeactivateWorkItem<TActor> stale)
            {
                stale.Complete(false);
                continue;
            }

            _host.Redeliver(Key, item);
        }
    }
}

internal enum EnqueueResult
{
    Accepted,
    Full,
    Closed,
}
