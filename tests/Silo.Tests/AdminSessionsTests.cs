using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentGateway.Silo.Tests.Infrastructure;

namespace AgentGateway.Silo.Tests;

/// <summary>
/// The review queue: sessions listed by status in pages, a session's audit trail, resume and end with an operator
/// note. A node of its own (no keys: loopback is the operator), so its store holds only what these tests make.
/// </summary>
public sealed class AdminSessionsTests : IAsyncLifetime
{
    private const string LoopingTask = "[[sim:loop]] Find the cheapest flight to Lisbon.";
    private OwnNode _node = null!;

    public Task InitializeAsync()
    {
        _node = new OwnNode(GatewayFixture.SharedSettings);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task ListSessions_StatusFilterAndPaging_ExactIdsPerPage()
    {
        foreach (var id in new[] { "list-a", "list-c", "list-e" })
        {
            await RunAwayAsync(id);
        }

        foreach (var id in new[] { "list-b", "list-d" })
        {
            (await ChatAsync(id, [Chat.User("Say hello.")])).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var first = await ListAsync("/admin/sessions?status=tripped&limit=2");
        var second = await ListAsync($"/admin/sessions?status=tripped&limit=2&cursor={(string)first["nextCursor"]!}");
        var active = await ListAsync("/admin/sessions?status=active");
        var all = await ListAsync("/admin/sessions");

        Ids(first).ShouldBe(["list-a", "list-c"]);
        Ids(second).ShouldBe(["list-e"]);
        second["nextCursor"].ShouldBeNull();
        Ids(active).ShouldBe(["list-b", "list-d"]);
        active["nextCursor"].ShouldBeNull();
        Ids(all).ShouldBe(["list-a", "list-b", "list-c", "list-d", "list-e"]);
        var tripped = first["sessions"]!.AsArray()[0]!.AsObject();
        ((string?)tripped["status"]).ShouldBe("tripped");
        ((string?)tripped["tripReason"]).ShouldBe("loop_limit");
        ((int)tripped["loopCount"]!).ShouldBe(5);
        ((string?)tripped["tenant"]).ShouldBe("local");
        tripped.ContainsKey("audit").ShouldBeFalse();
    }

    [Theory]
    [InlineData("status=stopped", "'status' must be active, tripped or ended (was 'stopped').")]
    [InlineData("limit=0", "'limit' must be a whole number from 1 to 500 (was '0').")]
    [InlineData("limit=501", "'limit' must be a whole number from 1 to 500 (was '501').")]
    [InlineData("limit=ten", "'limit' must be a whole number from 1 to 500 (was 'ten').")]
    [InlineData("cursor=%21%21", "'cursor' is not a cursor this API returned.")]
    public async Task ListSessions_BadQuery_400InvalidQuery(string query, string detail)
    {
        using var response = await _node.Http.GetAsync($"/admin/sessions?{query}");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-query");
        ((string?)problem["detail"]).ShouldBe(detail);
    }

    [Fact]
    public async Task SessionDetail_ScriptedRunawayThenResumeWithNote_AuditTrailHoldsEveryDecisionAndTheNote()
    {
        var at = _node.Time.GetUtcNow();
        await RunAwayAsync("audit-1");
        var tripped = await _node.GetSessionAsync("audit-1");
        _node.Time.Advance(TimeSpan.FromSeconds(90));

        using var resume = await PostAsync("/admin/sessions/audit-1/resume", new JsonObject { ["note"] = "tool fixed; let it retry" });
        var session = await _node.GetSessionAsync("audit-1");

        resume.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)session["status"]).ShouldBe("active");
        var audit = session["audit"]!.AsArray().Select(e => e!.AsObject()).ToArray();
        audit.Select(e => ((string?)e["kind"], (string?)e["decision"], (string?)e["tripReason"], (int)e["loopCount"]!, (string?)e["note"])).ShouldBe(
        [
            ("user_message", "admitted", null, 1, null),
            ("continuation", "admitted", null, 2, null),
            ("continuation", "admitted", null, 3, null),
            ("continuation", "admitted", null, 4, null),
            ("continuation", "admitted", null, 5, null),
            ("continuation", "refused", "loop_limit", 5, null),
            ("operator", "resumed", null, 0, "tool fixed; let it retry"),
        ]);
        audit.Take(6).ShouldAllBe(e => e["at"]!.GetValue<DateTimeOffset>() == at);
        audit[6]["at"]!.GetValue<DateTimeOffset>().ShouldBe(at.AddSeconds(90));
        ((long)audit[5]["tokensInWindow"]!).ShouldBe((long)tripped["tokensInWindow"]!);
        ((long)audit[6]["tokensInWindow"]!).ShouldBe(0);
    }

    [Fact]
    public async Task End_TrippedSession_RefusedFromThenOnAndResumeIs409()
    {
        await RunAwayAsync("end-1");

        using var end = await PostAsync("/admin/sessions/end-1/end", new JsonObject { ["note"] = "runaway; closing" });
        var ended = (await end.Content.ReadFromJsonAsync<JsonObject>())!;
        using var afterEnd = await ChatAsync("end-1", [Chat.User("A brand new task.")]);
        var completion = await afterEnd.ReadJsonAsync();
        using var resume = await PostAsync("/admin/sessions/end-1/resume", new JsonObject { ["note"] = "reopen" });
        using var endAgain = await PostAsync("/admin/sessions/end-1/end", null);
        var session = await _node.GetSessionAsync("end-1");

        end.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)ended["status"]).ShouldBe("ended");
        ((string?)ended["tripReason"]).ShouldBe("loop_limit");
        afterEnd.StatusCode.ShouldBe(HttpStatusCode.OK);
        afterEnd.Header("X-Gateway-Trip").ShouldBe("session_ended");
        afterEnd.Header("X-Gateway-Route").ShouldBe("deterministic");
        ((string?)completion.Message()["content"]).ShouldBe(GatewayFixture.Fallback);
        var problem = await resume.ShouldBeProblemAsync(HttpStatusCode.Conflict, "session-ended");
        ((string?)problem["detail"]).ShouldBe("Session 'end-1' has been ended by an operator: it cannot be resumed or ended again.");
        await endAgain.ShouldBeProblemAsync(HttpStatusCode.Conflict, "session-ended");
        ((string?)session["status"]).ShouldBe("ended");
        ((long)session["modelCalls"]!).ShouldBe(5);
        var last = session["audit"]!.AsArray()[^1]!;
        ((string?)last["decision"]).ShouldBe("ended");
        ((string?)last["note"]).ShouldBe("runaway; closing");
    }

    [Fact]
    public async Task End_ActiveSessionWithoutBody_EndedWithNoNote()
    {
        (await ChatAsync("end-active", [Chat.User("Say hello.")])).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var end = await PostAsync("/admin/sessions/end-active/end", null);
        var session = await _node.GetSessionAsync("end-active");

        end.StatusCode.ShouldBe(HttpStatusCode.OK);
        ((string?)session["status"]).ShouldBe("ended");
        ((string?)session["tripReason"]).ShouldBeNull();
        session["audit"]!.AsArray()[^1]!["note"].ShouldBeNull();
    }

    [Fact]
    public async Task EndAndResume_UnknownSessionOrBadNote_404Or400()
    {
        (await ChatAsync("note-1", [Chat.User("Say hello.")])).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var unknown = await PostAsync("/admin/sessions/never-seen/end", new JsonObject { ["note"] = "x" });
        using var tooLong = await PostAsync("/admin/sessions/note-1/resume", new JsonObject { ["note"] = new string('n', 2001) });
        using var badJson = await _node.Http.PostAsync("/admin/sessions/note-1/end", new StringContent("{\"note\":", Encoding.UTF8, "application/json"));
        using var notJson = await _node.Http.PostAsync("/admin/sessions/note-1/end", new StringContent("note", Encoding.UTF8, "text/plain"));

        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session-not-found");
        ((string?)(await tooLong.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-note"))["detail"]).ShouldBe("'note' is at most 2000 characters (was 2001).");
        await badJson.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid-json");
        await notJson.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        ((string?)(await _node.GetSessionAsync("note-1"))["status"]).ShouldBe("active");
    }

    /// <summary>A stuck agent: the human's message, then tool results sent back until the sixth call is refused.</summary>
    private async Task RunAwayAsync(string sessionId)
    {
        JsonNode[] history = [Chat.User(LoopingTask)];
        (await ChatAsync(sessionId, history)).Header("X-Gateway-Loop-Count").ShouldBe("1");
        JsonNode[] continuation = [Chat.User(LoopingTask), Chat.AssistantToolCall("call_1"), Chat.Tool("call_1", "still failing")];
        for (var call = 2; call <= 5; call++)
        {
            (await ChatAsync(sessionId, continuation)).Header("X-Gateway-Trip").ShouldBeNull();
        }

        (await ChatAsync(sessionId, continuation)).Header("X-Gateway-Trip").ShouldBe("loop_limit");
    }

    private Task<HttpResponseMessage> ChatAsync(string sessionId, JsonNode[] messages)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Chat.Request("haiku", messages, tools: true).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Session-Id", sessionId);
        return _node.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostAsync(string path, JsonObject? body) =>
        _node.Http.PostAsync(path, body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

    private async Task<JsonObject> ListAsync(string path)
    {
        using var response = await _node.Http.GetAsync(path);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string[] Ids(JsonObject page) => [.. page["sessions"]!.AsArray().Select(s => (string)s!["sessionId"]!)];
}
