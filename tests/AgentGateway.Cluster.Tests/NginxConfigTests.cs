using System.Diagnostics;
using AgentGateway.TestSupport.Servers;

namespace AgentGateway.Cluster.Tests;

/// <summary>deploy/nginx/nginx.conf, rewritten for loopback, is a configuration nginx accepts and keeps the deploy file's rules.</summary>
public sealed class NginxConfigTests
{
    [Fact]
    public async Task The_deploy_config_rewritten_for_loopback_passes_nginx_t_and_keeps_hashing_on_the_session()
    {
        var nginx = ServerProcess.FindExecutable("apt-get install nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx");
        var directory = Directory.CreateTempSubdirectory("agent-gateway-nginx-").FullName;
        try
        {
            var deploy = await File.ReadAllTextAsync(Path.Combine(ServerProcess.RepositoryRoot(), "deploy", "nginx", "nginx.conf"));
            var conf = NginxConfig.FromDeployFile(deploy, [5101, 5102, 5103], 5100, directory);
            var path = Path.Combine(directory, "nginx.conf");
            await File.WriteAllTextAsync(path, conf);

            conf.ShouldContain("hash $session_key consistent;");
            conf.ShouldContain("server 127.0.0.1:5102 max_fails=1 fail_timeout=10s;");
            conf.ShouldContain("listen 127.0.0.1:5100;");
            conf.ShouldContain("proxy_next_upstream error timeout;");
            conf.ShouldContain("proxy_set_header Connection $connection_upgrade;");
            conf.ShouldNotContain("resolve ");
            conf.ShouldNotContain("/var/log/nginx");

            var info = new ProcessStartInfo(nginx) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in new[] { "-t", "-p", directory, "-c", path, "-e", "stderr" })
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            process.ExitCode.ShouldBe(0, errors);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
