using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentGateway.Cluster.Tests;

/// <summary>
/// deploy/nginx/nginx.conf made runnable on loopback by an unprivileged test: the <c>upstream gateway</c> servers are
/// the test's nodes, it listens on a free loopback port, and its pid, logs and temp files live in the test's folder.
/// Everything else (the session-key maps, hashing, upgrade headers, buffering, timeouts, failover) is the deploy file's,
/// the same rewrite deploy/local-cluster.sh makes.
/// </summary>
internal static partial class NginxConfig
{
    public static string FromDeployFile(string deployConf, IEnumerable<int> nodePorts, int listenPort, string directory)
    {
        var servers = new StringBuilder();
        foreach (var port in nodePorts)
        {
            servers.Append(CultureInfo.InvariantCulture, $"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n");
        }

        var output = new StringBuilder();
        var serversWritten = false;
        foreach (var line in deployConf.Split('\n'))
        {
            if (line.StartsWith("error_log ", StringComparison.Ordinal))
            {
                output.Append(CultureInfo.InvariantCulture, $"error_log {directory}/error.log warn;\npid {directory}/nginx.pid;\n");
            }
            else if (line.StartsWith("http {", StringComparison.Ordinal))
            {
                output.Append("http {\n");
                foreach (var temp in new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" })
                {
                    output.Append(CultureInfo.InvariantCulture, $"    {temp}_temp_path {directory}/{temp};\n");
                }
            }
            else if (line.StartsWith("    access_log ", StringComparison.Ordinal))
            {
                output.Append(CultureInfo.InvariantCulture, $"    access_log {directory}/access.log gateway;\n");
            }
            else if (line.StartsWith("    resolver ", StringComparison.Ordinal))
            {
                // Loopback addresses need no DNS.
            }
            else if (UpstreamServer().IsMatch(line))
            {
                if (!serversWritten)
                {
                    output.Append(servers);
                    serversWritten = true;
                }
            }
            else if (line.Trim() == "listen 8080;")
            {
                output.Append(CultureInfo.InvariantCulture, $"        listen 127.0.0.1:{listenPort};\n");
            }
            else
            {
                output.Append(line).Append('\n');
            }
        }

        if (!serversWritten)
        {
            throw new InvalidOperationException("deploy/nginx/nginx.conf has no upstream server line with `resolve` to replace.");
        }

        return output.ToString();
    }

    [GeneratedRegex(@"^\s+server \S+ resolve")]
    private static partial Regex UpstreamServer();
}
