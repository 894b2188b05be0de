namespace AgentGateway.Runtime;

/// <summary>One message in an activation's mailbox: a unit of work that runs as one turn.</summary>
internal abstract class WorkItem<TActor>
{
    /// <summary>Runs the turn and keeps its outcome. Never throws.</summary>
    public abstract ValueTask ExecuteAsync(TActor actor);

    /// <summary>
    /// Hands the outcome to the sender (or the log, for one-way messages). Called after the activation has
    /// recorded the turn, so a sender that sees its answer also sees the activation as busy until then.
    /// </summary>
    public virtual void Complete()
    {
    }

    /// <summary>Fails the message without running it (activation failed, host shut down).</summary>
    public abstract void Fail(Exception exception);
}

/// <summary>A request/response message: the sender awaits the turn's result.</summary>
internal sealed class AskWorkItem<TActor, TState, TResult>(
    TState state,
    Func<TActor, TState, CancellationToken, ValueTask<TResult>> turn,
    CancellationToken cancellationToken)
    : WorkItem<TActor>
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TResult? _result;
    private Exception? _error;

    public Task<TResult> Task => _completion.Task;

    public override async ValueTask ExecuteAsync(TActor actor)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _error = new OperationCanceledException(cancellationToken);
            return;
        }

        try
        {
            _result = await turn(actor, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _error = ex;
        }
    }

    public override void Complete()
    {
        switch (_error)
        {
            case null:
                _completion.TrySetResult(_result!);
                break;
            case OperationCanceledException canceled when cancellationToken.IsCancellationRequested:
                _completion.TrySetCanceled(canceled.CancellationToken);
                break;
            default:
                _completion.TrySetException(_error);
                break;
        }
    }

    public override void Fail(Exception exception) => _completion.TrySetException(exception);
}

/// <summary>A one-way message: the sender does not wait; a failure is reported to the host's error callback.</summary>
internal sealed class TellWorkItem<TActor, TState>(
    TState state,
    Func<TActor, TState, ValueTask> turn,
    Action<Exception> onError)
    : WorkItem<TActor>
{
    public override async ValueTask ExecuteAsync(TActor actor)
    {
        try
        {
            await turn(actor, state).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            onError(ex);
        }
    }

    public override void Fail(Exception exception) => onError(exception);
}

/// <summary>Asks an activation to deactivate if it is still idle when this message's turn comes.</summary>
internal sealed class DeactivateWorkItem<TActor> : WorkItem<TActor>
{
    private readonly TaskCompletionSource<bool> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with true when the activation was deactivated, false when it was busy again.</summary>
    public Task<bool> Completion => _completion.Task;

    public void Complete(bool deactivated) => _completion.TrySetResult(deactivated);

    public override ValueTask ExecuteAsync(TActor actor) => throw new InvalidOperationException("Handled by the activation.");

    public override void Fail(Exception exception) => _completion.TrySetResult(false);
}
