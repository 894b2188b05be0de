namespace AgentGateway.Alerts;

/// <summary>Hears what the alert grain does (metrics). Called inside its turns: must not block or throw.</summary>
public interface IAlertObserver
{
    /// <summary>An alert was accepted and stored (before any sink sees it).</summary>
    void Raised(string kind);

    /// <summary>An alert was dropped: <c>duplicate</c> or <c>rate_limited</c>.</summary>
    void Suppressed(string kind, string why);

    /// <summary>A sink accepted an alert; called after the delivered mark is written.</summary>
    void Delivered(string sink);

    /// <summary>A publish attempt failed; called after the failure is written (the retry is then scheduled).</summary>
    void Failed(string sink);
}

/// <summary>Nobody listens.</summary>
public sealed class NullAlertObserver : IAlertObserver
{
    public static readonly NullAlertObserver Instance = new();

    private NullAlertObserver()
    {
    }

    public void Raised(string kind)
    {
    }

    public void Suppressed(string kind, string why)
    {
    }

    public void Delivered(string sink)
    {
    }

    public void Failed(string sink)
    {
    }
}

/// <summary>Tells every observer (metrics, and in tests a listener that signals).</summary>
public sealed class CompositeAlertObserver(IEnumerable<IAlertObserver> observers) : IAlertObserver
{
    private readonly IAlertObserver[] _observers = [.. observers];

    public void Raised(string kind)
    {
        foreach (var o in _observers)
        {
            o.Raised(kind);
        }
    }

    public void Suppressed(string kind, string why)
    {
        foreach (var o in _observers)
        {
            o.Suppressed(kind, why);
        }
    }

    public void Delivered(string sink)
    {
        foreach (var o in _observers)
        {
            o.Delivered(sink);
        }
    }

    public void Failed(string sink)
    {
        foreach (var o in _observers)
        {
            o.Failed(sink);
        }
    }
}
