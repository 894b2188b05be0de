using AgentGateway.Contracts.Alerts;
using System.Text.Json;

namespace AgentGateway.Alerts.Outbox;

/// <summary>
/// The embedded default's durable outbox: one JSON file per alert (<c>{messageId}.json</c>) in a directory. Every
/// write goes to a temporary file that is flushed to disk and then renamed over the old one, so a crash leaves
/// either the old record or the new one, never half of one.
/// </summary>
/// <remarks>
/// Writes are serialized (the alert grain is the only writer of a node). Reads parse every file: the grain reads
/// the directory once, when it activates; the admin API reads the grain's memory. Leftover temporary files (a crash
/// mid-write) are ignored and removed when the directory is listed.
/// </remarks>
public sealed class FileAlertOutboxStore : IAlertOutboxStore
{
    private const string Extension = ".json";
    private const string TempExtension = ".tmp";
    private readonly SemaphoreSlim _writes = new(1, 1);

    private readonly TimeSpan? _retention;
    private readonly TimeProvider _time;

    /// <param name="directory">Created if missing.</param>
    /// <param name="retention">When given, records every sink delivered longer ago than this are deleted as the
    /// directory is read (the node reads it once, at start), so the directory does not grow without end.</param>
    /// <param name="time">The clock retention is measured by.</param>
    public FileAlertOutboxStore(string directory, TimeSpan? retention = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        _retention = retention;
        _time = time ?? TimeProvider.System;
    }

    public string Directory { get; }

    public async Task PutAsync(AlertRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync(record, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<bool> TryAddAsync(AlertRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The only writer of the directory is this store (one node), so the check and the write cannot interleave.
            if (File.Exists(PathOf(record.Alert.MessageId)))
            {
                return false;
            }

            await WriteAsync(record, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task MarkDeliveredAsync(string messageId, string sink, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = await ReadAsync(PathOf(messageId), cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"No alert '{messageId}' in the outbox at {Directory}.");
            await WriteAsync(OutboxRecords.WithDelivered(record, sink, at), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<IReadOnlyList<AlertRecord>> ListPendingAsync(CancellationToken cancellationToken = default) =>
        (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).Where(static r => r.IsPending).OrderBy(static r => r.StoredAt).ToList();

    public async Task<IReadOnlyList<AlertRecord>> ListRecentAsync(int limit, CancellationToken cancellationToken = default) =>
        OutboxRecords.Recent(await ReadAllAsync(cancellationToken).ConfigureAwait(false), limit).ToList();

    private string PathOf(string messageId)
    {
        // Message ids are hex digests; anything else must not name a path outside the directory.
        if (messageId.Length == 0 || !messageId.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{messageId}' is not an alert message id.", nameof(messageId));
        }

        return Path.Combine(Directory, messageId + Extension);
    }

    private async Task WriteAsync(AlertRecord record, CancellationToken cancellationToken)
    {
        var path = PathOf(record.Alert.MessageId);
        var temp = path + "." + Guid.NewGuid().ToString("N") + TempExtension;
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(stream, record, AlertJson.Default.AlertRecord, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static async Task<AlertRecord?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync(stream, AlertJson.Default.AlertRecord, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private async Task<List<AlertRecord>> ReadAllAsync(CancellationToken cancellationToken)
    {
        // Under the write lock: a temporary file seen now is a crash's leftover, not a write in progress.
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAllLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    private async Task<List<AlertRecord>> ReadAllLockedAsync(CancellationToken cancellationToken)
    {
        var records = new List<AlertRecord>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            if (path.EndsWith(TempExtension, StringComparison.Ordinal))
            {
                TryDelete(path);
            }
            else if (path.EndsWith(Extension, StringComparison.Ordinal))
            {
                try
                {
                    if (await ReadAsync(path, cancellationToken).ConfigureAwait(false) is { } record)
                    {
                        if (IsExpired(record))
                        {
                            TryDelete(path);
                        }
                        else
                        {
                            records.Add(record);
                        }
                    }
                }
                catch (JsonException)
                {
                    // Not written by this store (writes are atomic): kept aside for a person to look at, not retried.
                    File.Move(path, path + ".corrupt", overwrite: true);
                }
            }
        }

        return records;
    }

    private bool IsExpired(AlertRecord record) =>
        _retention is { } retention
        && !record.IsPending
        && record.Deliveries.Max(static d => d.DeliveredAt!.Value) < _time.GetUtcNow() - retention;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
