using AgentGateway.TestSupport.Servers;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentGateway.Storage.DynamoDb.Tests;

[Collection(DynaliteCollection.Name)]
public sealed class DynamoTablesTests(DynaliteFixture dynalite)
{
    [Fact]
    public async Task EnsureAsync_TwoNodesAtOnceSamePrefix_BothSucceedAndEveryTableIsActive()
    {
        var options = dynalite.NewOptions();
        using var one = DynaliteFixture.CreateClient(options);
        using var two = DynaliteFixture.CreateClient(options);

        await Task.WhenAll(
            Task.Run(() => DynamoTables.EnsureAsync(one, options, NullLogger.Instance, CancellationToken.None)),
            Task.Run(() => DynamoTables.EnsureAsync(two, options, NullLogger.Instance, CancellationToken.None)));

        var tables = (await one.ListTablesAsync(new ListTablesRequest())).TableNames.Where(t => t.StartsWith(options.TablePrefix, StringComparison.Ordinal));
        tables.Order(StringComparer.Ordinal).ShouldBe([options.AlertsTable, options.GrainsTable]);
        foreach (var table in tables)
        {
            (await one.DescribeTableAsync(table)).Table.TableStatus.ShouldBe(Amazon.DynamoDBv2.TableStatus.ACTIVE);
        }

        // The grains' table in the layout of Orleans' own DynamoDB grain storage.
        var grains = (await one.DescribeTableAsync(options.GrainsTable)).Table;
        grains.KeySchema.Select(k => $"{k.AttributeName} {k.KeyType}").ShouldBe(["GrainReference HASH", "GrainType RANGE"]);
        (await one.DescribeTableAsync(options.AlertsTable)).Table.KeySchema.Single().AttributeName.ShouldBe("id");

        // Again, with everything in place: nothing to do.
        await DynamoTables.EnsureAsync(one, options, NullLogger.Instance, CancellationToken.None);
    }

    [Fact]
    public async Task EnsureAsync_CreateTablesOffAndTablesMissing_FailsNamingEveryMissingTable()
    {
        var options = dynalite.NewOptions();
        options.CreateTables = false;
        using var client = DynaliteFixture.CreateClient(options);

        var error = await Should.ThrowAsync<InvalidOperationException>(() => DynamoTables.EnsureAsync(client, options, NullLogger.Instance, CancellationToken.None));

        error.Message.ShouldContain($"'{options.GrainsTable}', '{options.AlertsTable}'");
        error.Message.ShouldContain("DynamoDb:CreateTables is false");
    }

    [Fact]
    public async Task EnsureAsync_CreateTablesOffAndTablesPresent_Succeeds()
    {
        var (options, client) = await dynalite.NewTablesAsync();
        using (client)
        {
            options.CreateTables = false;

            await DynamoTables.EnsureAsync(client, options, NullLogger.Instance, CancellationToken.None);
        }
    }

    [Fact]
    public async Task EnsureAsync_GrainsTableWithoutItsIndex_FailsNamingTheIndex()
    {
        var options = dynalite.NewOptions();
        using var client = DynaliteFixture.CreateClient(options);
        await client.CreateTableAsync(new CreateTableRequest
        {
            TableName = options.GrainsTable,
            BillingMode = Amazon.DynamoDBv2.BillingMode.PAY_PER_REQUEST,
            KeySchema = [new KeySchemaElement("GrainReference", Amazon.DynamoDBv2.KeyType.HASH), new KeySchemaElement("GrainType", Amazon.DynamoDBv2.KeyType.RANGE)],
            AttributeDefinitions =
            [
                new AttributeDefinition("GrainReference", Amazon.DynamoDBv2.ScalarAttributeType.S),
                new AttributeDefinition("GrainType", Amazon.DynamoDBv2.ScalarAttributeType.S),
            ],
        });

        var error = await Should.ThrowAsync<InvalidOperationException>(() => DynamoTables.EnsureAsync(client, options, NullLogger.Instance, CancellationToken.None));

        error.Message.ShouldBe($"DynamoDB table '{options.GrainsTable}' has no global secondary index 'status-GrainReference' (status HASH, GrainReference RANGE): add it (see docs/storage.md).");
    }

    [Theory]
    [InlineData("bad prefix/")]
    [InlineData("ümlaut-")]
    public void Validate_TablePrefixWithCharactersDynamoDbRejects_Error(string prefix)
    {
        var options = new DynamoDbOptions { TablePrefix = prefix };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        errors.ShouldBe([$"DynamoDb:TablePrefix may hold only letters, digits, '_', '-' and '.', at most 249 of them (was '{prefix}')."]);
    }

    [Fact]
    public void Validate_Defaults_NoErrors()
        => new DynamoDbOptions().Validate(new System.ComponentModel.DataAnnotations.ValidationContext(new DynamoDbOptions())).ShouldBeEmpty();

    [Theory]
    [InlineData("http://127.0.0.1:8000", true)]
    [InlineData("http://localhost:8000", true)]
    [InlineData("http://[::1]:8000", true)]
    [InlineData("https://dynamodb.eu-west-1.amazonaws.com", false)]
    [InlineData(null, false)]
    public void IsLoopback_ByServiceUrl(string? url, bool loopback)
        => new DynamoDbOptions { ServiceUrl = url }.IsLoopback.ShouldBe(loopback);

    [Fact]
    public void NewTablePrefix_IsAValidPrefix()
    {
        var options = new DynamoDbOptions { TablePrefix = DynaliteServer.NewTablePrefix() };

        options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ShouldBeEmpty();
    }
}
