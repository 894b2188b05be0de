namespace AgentGateway.TestSupport;

/// <summary>
/// Test keys put where the AWS SDK's standard credential chain finds them first (the environment), so tests exercise
/// the same chain production uses. The same values in every test: setting them from parallel tests is harmless.
/// </summary>
public static class AwsTestCredentials
{
    public const string AccessKeyId = "AKIDALERTSTEST";
    public const string SecretAccessKey = "alerts-test-secret-key/not-a-real-one";

    public static void Use()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretAccessKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }
}
