using AgentGateway.Contracts.Sessions;
using AgentGateway.Governance;
using AgentGateway.TestSupport;

namespace AgentGateway.Governance.Tests;

public sealed class SessionGovernorTests
{
    private static readonly ulong TaskA = TaskFingerprint.Compute(1, "find the bug [[sim:loop]]");
    private static readonly ulong TaskB = TaskFingerprint.Compute(2, "now fix it");
    private readonly FakeTimeProvider _time = new();
    private readonly GovernanceOptions _options = new();

    [Fact]
    public void TryAdmit_FiveCallsInOneTask_SixthTripsWithLoopLimit()
    {
        var governor = NewGovernor();

        var allowed = Enumerable.Range(0, 5).Select(i => governor.TryAdmit(i == 0 ? User(TaskA) : Continue(TaskA), Now)).ToArray();
        var sixth = governor.TryAdmit(Continue(TaskA), Now);

        allowed.Select(a => a.Allowed).ShouldAllBe(ok => ok);
        allowed.Select(a => a.LoopCount).ShouldBe([1, 2, 3, 4, 5]);
        sixth.ShouldBe(Admission.Refused(TripReason.LoopLimit, newlyTripped: true, 5));
        governor.Status.ShouldBe(SessionStatus.Tripped);
        governor.TrippedAt.ShouldBe(Now);
        governor.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public void TryAdmit_AfterTrip_EveryCallRefusedEvenANewUserMessage()
    {
        var governor = NewGovernor();
        RunCalls(governor, TaskA, 6);

        var later = governor.TryAdmit(Continue(TaskA), Now);
        var newTask = governor.TryAdmit(User(TaskB), Now);

        later.ShouldBe(Admission.Refused(TripReason.LoopLimit, newlyTripped: false, 5));
        newTask.Allowed.ShouldBeFalse();
        newTask.NewlyTripped.ShouldBeFalse();
        governor.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public void TryAdmit_NewUserMessage_StartsNewTaskWithFreshLoopCount()
    {
        var governor = NewGovernor();
        RunCalls(governor, TaskA, 4);

        var first = governor.TryAdmit(User(TaskB), Now);

        first.LoopCount.ShouldBe(1);
        governor.CurrentTask.ShouldBe(TaskB);
        governor.ModelCalls.ShouldBe(5);
    }

    [Fact]
    public void TryAdmit_ReSentOldHistory_DoesNotResetLoopCount()
    {
        var governor = NewGovernor();
        RunCalls(governor, TaskA, 3);
        governor.TryAdmit(User(TaskB), Now).LoopCount.ShouldBe(1);

        var resentA = governor.TryAdmit(User(TaskA), Now);
        var resentB = governor.TryAdmit(User(TaskB), Now);

        resentA.LoopCount.ShouldBe(2);
        resentB.LoopCount.ShouldBe(3);
        governor.CurrentTask.ShouldBe(TaskB);
    }

    [Fact]
    public void TryAdmit_ContinuationOfUnseenTaskOnFreshSession_AdoptsItAndCounts()
    {
        var governor = NewGovernor();

        var first = governor.TryAdmit(Continue(TaskA), Now);
        var second = governor.TryAdmit(Continue(TaskB), Now);

        first.LoopCount.ShouldBe(1);
        second.LoopCount.ShouldBe(2);
        governor.CurrentTask.ShouldBe(TaskA);
    }

    [Fact]
    public void TryAdmit_ThreeAnswersOf4000TokensInsideWindow_NextRefusedForTokenVelocity()
    {
        var governor = NewGovernor();
        for (var i = 0; i < 3; i++)
        {
            var task = TaskFingerprint.Compute(i + 1, $"question {i} [[sim:tokens=4000]]");
            var admission = governor.TryAdmit(User(task, inputTokens: 10), Now);
            admission.Allowed.ShouldBeTrue();
            governor.Settle(new CallSettlement(admission.ReservedInputTokens, 10, 4_000), Now);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var next = governor.TryAdmit(User(TaskFingerprint.Compute(4, "one more"), inputTokens: 10), Now);

        governor.TokensInWindow(Now).ShouldBe(12_030);
        next.ShouldBe(Admission.Refused(TripReason.TokenVelocity, newlyTripped: true, 0));
        governor.TripReason.ShouldBe(TripReason.TokenVelocity);
    }

    [Fact]
    public void TokensInWindow_FakeTimePastTheWindow_BudgetFreeAgain()
    {
        var governor = NewGovernor();
        for (var i = 0; i < 2; i++)
        {
            var admission = governor.TryAdmit(User(TaskFingerprint.Compute(i + 1, $"q{i}"), inputTokens: 10), Now);
            governor.Settle(new CallSettlement(admission.ReservedInputTokens, 10, 4_000), Now);
        }

        governor.TokensInWindow(Now).ShouldBe(8_020);
        _time.Advance(TimeSpan.FromSeconds(59));
        governor.TokensInWindow(Now).ShouldBe(8_020);
        _time.Advance(TimeSpan.FromSeconds(1));
        governor.TokensInWindow(Now).ShouldBe(0);
        governor.TryAdmit(User(TaskFingerprint.Compute(3, "q2"), inputTokens: 10), Now).Allowed.ShouldBeTrue();
    }

    [Fact]
    public void TryAdmit_VelocityTripThenWindowPassesAndResume_AnsweredAgain()
    {
        var governor = NewGovernor();
        var admission = governor.TryAdmit(User(TaskA, inputTokens: 5), Now);
        governor.Settle(new CallSettlement(admission.ReservedInputTokens, 5, 20_000), Now);
        governor.TryAdmit(Continue(TaskA), Now).TripReason.ShouldBe(TripReason.TokenVelocity);

        _time.Advance(TimeSpan.FromSeconds(60));
        governor.TryAdmit(Continue(TaskA), Now).Allowed.ShouldBeFalse();
        governor.Resume(null, Now);

        governor.TryAdmit(User(TaskB), Now).Allowed.ShouldBeTrue();
        governor.Status.ShouldBe(SessionStatus.Active);
    }

    [Fact]
    public void TryAdmit_ReservesEstimatedInputAndSettleCorrectsToRealUsage()
    {
        var governor = NewGovernor();

        var admission = governor.TryAdmit(User(TaskA, inputTokens: 120), Now);
        governor.TokensInWindow(Now).ShouldBe(120);
        governor.Settle(new CallSettlement(admission.ReservedInputTokens, 100, 50), Now);

        admission.ReservedInputTokens.ShouldBe(120);
        governor.TokensInWindow(Now).ShouldBe(150);
    }

    [Fact]
    public void Resume_AfterLoopLimit_ClearsTripLoopCountAndWindow()
    {
        var governor = NewGovernor();
        RunCalls(governor, TaskA, 6);

        governor.Resume(null, Now);

        governor.Status.ShouldBe(SessionStatus.Active);
        governor.TripReason.ShouldBe(TripReason.None);
        governor.TrippedAt.ShouldBeNull();
        governor.LoopCount.ShouldBe(0);
        governor.TokensInWindow(Now).ShouldBe(0);
        governor.TryAdmit(Continue(TaskA), Now).LoopCount.ShouldBe(1);
        governor.ModelCalls.ShouldBe(6);
    }

    [Fact]
    public void ToStateLoad_RoundTrip_SameDecisions()
    {
        var governor = NewGovernor();
        RunCalls(governor, TaskA, 4);
        var state = governor.ToState(7, Now);

        var restored = NewGovernor();
        restored.Load(state);

        state.Version.ShouldBe(7);
        restored.LoopCount.ShouldBe(4);
        restored.ModelCalls.ShouldBe(4);
        restored.CurrentTask.ShouldBe(TaskA);
        restored.TokensInWindow(Now).ShouldBe(governor.TokensInWindow(Now));
        restored.TryAdmit(User(TaskA), Now).LoopCount.ShouldBe(5);
        restored.TryAdmit(Continue(TaskA), Now).TripReason.ShouldBe(TripReason.LoopLimit);
    }

    [Fact]
    public void TryAdmit_MoreTasksThanRemembered_OldestForgotten()
    {
        var options = new GovernanceOptions { RecentTasks = 2 };
        var governor = new SessionGovernor("s", options);
        var tasks = Enumerable.Range(1, 3).Select(i => TaskFingerprint.Compute(i, $"t{i}")).ToArray();
        foreach (var task in tasks)
        {
            governor.TryAdmit(User(task), Now);
        }

        governor.TryAdmit(User(tasks[0]), Now).LoopCount.ShouldBe(1);
    }

    [Fact]
    public void TryAdmit_SeventeenTasksWithDefaultMemory_KeepsNewestSixteenInOrder()
    {
        // The queue of recent tasks starts empty and grows (4, 8, 16); the cap must hold across the growth.
        var governor = NewGovernor();
        var tasks = Enumerable.Range(1, 17).Select(i => TaskFingerprint.Compute(i, $"t{i}")).ToArray();
        foreach (var task in tasks)
        {
            governor.TryAdmit(User(task), Now);
        }

        governor.ToState(1, Now).RecentTasks.ShouldBe(tasks[1..]);
        governor.TryAdmit(User(tasks[16]), Now).LoopCount.ShouldBe(2);
        governor.TryAdmit(User(tasks[0]), Now).LoopCount.ShouldBe(1);
    }

    [Fact]
    public void ToView_ReportsWireNames()
    {
        var governor = NewGovernor();
        RunCalls(governor, TaskA, 6);

        var view = governor.ToView(3, Now, Now);

        view.Status.ShouldBe("tripped");
        view.TripReason.ShouldBe("loop_limit");
        view.LoopCount.ShouldBe(5);
        view.MaxLoops.ShouldBe(5);
        view.TokenBudget.ShouldBe(10_000);
        view.WindowSeconds.ShouldBe(60);
    }

    [Fact]
    public void TaskFingerprint_SameTextAndOrdinal_StableAndDistinct()
    {
        TaskFingerprint.Compute(1, "hello").ShouldBe(TaskFingerprint.Compute(1, "hello"));
        TaskFingerprint.Compute(1, "hello").ShouldNotBe(TaskFingerprint.Compute(2, "hello"));
        TaskFingerprint.Compute(1, "hello").ShouldNotBe(TaskFingerprint.Compute(1, "hellp"));
        // Stored fingerprints must mean the same after an upgrade: the algorithm is pinned.
        TaskFingerprint.Compute(1, "hello").ShouldBe(GoldenHello);
    }

    [Fact]
    public void GovernanceOptions_Invalid_ReportsEveryError()
    {
        var options = new GovernanceOptions { Window = TimeSpan.FromMilliseconds(10) };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToArray();

        errors.Single().ErrorMessage!.ShouldContain("Governance:Window");
    }

    private const ulong GoldenHello = 0x1E6DE42E82BA3816UL; // FNV-1a 64 over (1, "hello"), computed independently

    private DateTimeOffset Now => _time.GetUtcNow();

    private SessionGovernor NewGovernor() => new("session-1", _options);

    private static TurnInfo User(ulong task, int inputTokens = 3) => new(TurnKind.UserMessage, task, inputTokens);

    private static TurnInfo Continue(ulong task, int inputTokens = 3) => new(TurnKind.Continuation, task, inputTokens);

    private void RunCalls(SessionGovernor governor, ulong task, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            governor.TryAdmit(i == 0 ? User(task) : Continue(task), Now);
        }
    }
}
