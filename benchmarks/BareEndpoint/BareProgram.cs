using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.Providers.Models;
using AgentGateway.Providers.Storage;
using AgentGateway.Grains.Hosting;
using AgentGateway.Silo.Hosting;
using AgentGateway.Silo.OpenAi;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentGateway.Benchmarks.Bare;

/// <summary>
/// A minimal Kestrel app: <c>POST /v1/chat/completions</c> parses the request body exactly as the Silo does and
/// answers with a canned <c>chat.completion</c>. No governance, no model call: the floor for the load test.
/// </summary>
/// <remarks>
/// For profiling only, <c>BARE_STEPS</c> (comma-separated) adds the Silo's pieces back one at a time, using the
/// Silo's own public types: <c>defaults</c> (the Silo's middleware: exception handler, status code pages, problem
/// details), <c>map</c> (<see cref="ChatRequestMapper"/>), <c>admit</c> (<see cref="ISessionGrain.AdmitAsync"/>, on a silo in this process),
/// <c>call</c> (the simulated model), <c>settle</c> (the one-way settlement turn), <c>write</c> (the completion
/// written by <see cref="ChatCompletionWriter"/> as the Silo does, instead of the canned bytes).
/// See benchmarks/wrk/ablation.sh. Without <c>BARE_STEPS</c> it is the bare endpoint.
/// </remarks>
internal static class BareProgram
{
    private const long MaxRequestBodyBytes = 1_048_576;

    public static async Task<int> Main(string[] args)
    {
        var requestInfo = SiloRequestTypeInfo();
        var canned = CannedCompletion();
        var steps = (Environment.GetEnvironmentVariable("BARE_STEPS") ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.Ordinal);
        var unknown = steps.Except(["defaults", "map", "admit", "call", "settle", "write"]).ToList();
        if (unknown.Count > 0)
        {
            await Console.Error.WriteLineAsync($"BARE_STEPS: unknown step(s) {string.Join(", ", unknown)}").ConfigureAwait(false);
            return 2;
        }

        bool map = steps.Contains("map"), admit = steps.Contains("admit"), call = steps.Contains("call"),
            settle = steps.Contains("settle"), write = steps.Contains("write");

        // Same defaults as the Silo: WebApplication's host, Kestrel without the Server header, and the
        // appsettings.json logging levels (Information; Microsoft.AspNetCore at Warning), console logger.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.ConfigureKestrel(static kestrel => kestrel.AddServerHeader = false);
        if (steps.Contains("defaults"))
        {
            builder.AddGatewayDefaults();
        }

        var time = TimeProvider.System;
        if (admit || settle)
        {
            // The session grains, hosted as the Silo hosts them (a silo in this process, in-memory state).
            builder.Services.AddSingleton<ISessionStore>(new InMemorySessionStore());
            builder.Services.AddSingleton(Options.Create(new GovernanceOptions { TokenBudget = long.MaxValue / 2 }));
            builder.Services.TryAddSingleton(time);
            builder.UseOrleans(static silo =>
            {
                silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: 0);
                silo.AddGatewayGrains();
            });
        }
        var model = new ModelEntry("haiku", ModelDefinition.SimulatedProvider, new SimulatedChatClient("haiku", time));

        var app = builder.Build();
        if (steps.Contains("defaults"))
        {
            app.UseGatewayDefaults();
        }

        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            if (!context.Request.HasJsonContentType())
            {
                return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxRequestBodyBytes;
            }

            ChatCompletionRequest? request;
            try
            {
                request = await JsonSerializer.DeserializeAsync(context.Request.Body, requestInfo, context.RequestAborted).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                return Results.BadRequest();
            }

            if (request is not { Model.Length: > 0, Messages.Count: > 0 })
            {
                return Results.BadRequest();
            }

            if (!map)
            {
                return Results.Bytes(canned, "application/json");
            }

            // Profiling steps (BARE_STEPS): the Silo's pieces, in the Silo's order.
            if (!ChatRequestMapper.TryMap(request, model.Name, out var mapped, out _))
            {
                return Results.BadRequest();
            }

            var sessionId = context.Request.Headers[SessionIds.Header].ToString();
            var admission = new Admission(true, TripReason.None, false, 1, mapped.Turn.EstimatedInputTokens);
            if (admit)
            {
                admission = await Session(context, sessionId).AdmitAsync(mapped.Turn).ConfigureAwait(false);
            }

            ChatResponse? response = null;
            if (call)
            {
                response = await model.Client.GetResponseAsync(mapped.Messages, mapped.Options, context.RequestAborted).ConfigureAwait(false);
            }

            var input = response?.Usage?.InputTokenCount ?? admission.ReservedInputTokens;
            var output = response?.Usage?.OutputTokenCount ?? 7;
            if (settle)
            {
                _ = Session(context, sessionId).SettleAsync(new CallSettlement(admission.ReservedInputTokens, input, output));
            }

            if (!write)
            {
                return Results.Bytes(canned, "application/json");
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            ChatCompletionWriter.WriteCompletion(context.Response.BodyWriter, new CompletionPayload(
                "chatcmpl-" + Guid.CreateVersion7().ToString("N"),
                time.GetUtcNow().ToUnixTimeSeconds(),
                model.Name,
                response?.Text ?? "This is a simulated answer from haiku.",
                null,
                "stop",
                input,
                output));
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            return Results.Empty;
        });
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    private static ISessionGrain Session(HttpContext context, string sessionId) =>
        context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<ISessionGrain>(sessionId);

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>
    /// The Silo's own source-generated metadata for <see cref="ChatCompletionRequest"/>: <c>OpenAiJsonContext</c> is
    /// internal to the Silo, so it is looked up once, here, by name (no copy of it, and no change to src/).
    /// </summary>
    private static JsonTypeInfo<ChatCompletionRequest> SiloRequestTypeInfo()
    {
        const string contextName = "AgentGateway.Silo.OpenAi.OpenAiJsonContext";
        var contextType = typeof(ChatCompletionRequest).Assembly.GetType(contextName, throwOnError: false)
            ?? throw new InvalidOperationException($"{contextName} is not in {typeof(ChatCompletionRequest).Assembly.GetName().Name}.");
        var context = contextType.GetProperty("Default", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as JsonSerializerContext
            ?? throw new InvalidOperationException($"{contextName}.Default is not a JsonSerializerContext.");
        return (JsonTypeInfo<ChatCompletionRequest>)(context.GetTypeInfo(typeof(ChatCompletionRequest))
            ?? throw new InvalidOperationException($"{contextName} has no metadata for {nameof(ChatCompletionRequest)}."));
    }

    /// <summary>A completion of the size and shape the Silo answers with, written once by the Silo's own writer.</summary>
    private static byte[] CannedCompletion()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        ChatCompletionWriter.WriteCompletion(buffer, new CompletionPayload(
            "chatcmpl-" + Guid.CreateVersion7().ToString("N"),
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            "haiku",
            "This is a simulated answer from haiku.",
            null,
            "stop",
            40,
            7));
        return buffer.WrittenSpan.ToArray();
    }
}
