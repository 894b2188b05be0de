using AgentGateway.Runtime;

namespace AgentGateway.Runtime.Tests;

/// <summary>An actor that records what happens to it, for the host's tests.</summary>
internal sealed class ProbeActor(string key, ProbeJournal journal) : Actor
{
    private int _inTurn;

    public string Key { get; } = key;

    public int Instance { get; } = journal.NextInstance();

    public int Turns { get; private set; }

    /// <summary>Set by a turn: while true the actor refuses idle collection (it holds something outside its turns).</summary>
    public bool Busy { get; set; }

    public override bool CanDeactivate => !Busy;

    public List<int> Received { get; } = [];

    public override async ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        journal.Record($"activate {Key}#{Instance}");
        if (journal.FailNextActivation)
        {
            journal.FailNextActivation = false;
            throw new InvalidOperationException("activation failed on purpose");
        }

        await Task.Yield();
    }

    public override async ValueTask OnDeactivateAsync(CancellationToken cancellationToken)
    {
        journal.Record($"deactivate {Key}#{Instance}");
        if (journal.HoldDeactivation is { } hold)
        {
            journal.DeactivationStarted.TrySetResult();
            await hold.Task;
        }
    }

    /// <summary>A turn that yields half-way: another turn running at the same time would be seen.</summary>
    public async ValueTask<int> CountAsync()
    {
        if (Interlocked.Increment(ref _inTurn) != 1)
        {
            Interlocked.Increment(ref journal.Overlaps);
        }

        await Task.Yield();
        Turns++;
        Interlocked.Decrement(ref _inTurn);
        return Turns;
    }

    /// <summary>A turn that completes synchronously (the inline path): an overlapping turn would still be seen.</summary>
    public ValueTask<int> CountSynchronously()
    {
        if (Interlocked.Increment(ref _inTurn) != 1)
        {
            Interlocked.Increment(ref journal.Overlaps);
        }

        Thread.SpinWait(200);
        Turns++;
        Interlocked.Decrement(ref _inTurn);
        return ValueTask.FromResult(Turns);
    }

    public ValueTask ReceiveAsync(int value)
    {
        Received.Add(value);
        return ValueTask.CompletedTask;
    }
}

internal sealed class ProbeJournal
{
    private readonly List<string> _events = [];
    private int _instances;

    public int Overlaps;

    public bool FailNextActivation { get; set; }

    public TaskCompletionSource? HoldDeactivation { get; set; }

    public TaskCompletionSource DeactivationStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int NextInstance() => Interlocked.Increment(ref _instances);

    public int Instances => Volatile.Read(ref _instances);

    public void Record(string e)
    {
        lock (_events)
        {
            _events.Add(e);
        }
    }

    public string[] Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }
}
