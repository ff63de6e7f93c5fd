"""The in-process admission gate alone (app/bedrock/admission.py's ModelGate): slots, the FIFO
queue behind them, refusals and Retry-After. Callers hold their slots until the test sets an
event, and hold times come from a clock the test moves, so nothing sleeps."""

from __future__ import annotations

import asyncio

import pytest

from app.bedrock.admission import Admission, ModelGate
from app.problems import ProblemError
from tests.support.clock import FakeClock

TARGET = "amazon.titan-image-generator-v1"


class Caller:
    """A task that takes a slot, records that it has it, and holds it until `leave` is set."""

    def __init__(self, gate: ModelGate, name: str, log: list[str], wait_s: float = 60) -> None:
        self.holding = asyncio.Event()
        self.leave = asyncio.Event()
        self.task = asyncio.create_task(self._run(gate, name, log, wait_s))

    async def _run(self, gate: ModelGate, name: str, log: list[str], wait_s: float) -> None:
        async with gate.slot(wait_s):
            log.append(name)
            self.holding.set()
            await self.leave.wait()

    async def done(self) -> None:
        """Let go of the slot and wait for the task to end."""
        self.leave.set()
        await self.task


async def queued(gate: ModelGate, waiting: int) -> None:
    """One turn of the event loop, in which every caller just started runs up to its wait at the
    gate; then `waiting` of them are queued."""
    await asyncio.sleep(0)
    assert gate.waiting == waiting


async def refusal(gate: ModelGate, wait_s: float) -> ProblemError:
    """The problem the gate answers a newcomer with."""
    with pytest.raises(ProblemError) as refused:
        async with gate.slot(wait_s):
            pytest.fail("the gate let a caller in")
    return refused.value


async def test_calls_within_the_limit_go_at_once() -> None:
    gate = ModelGate(TARGET, limit=2, queue_limit=1)
    log: list[str] = []
    a, b = Caller(gate, "a", log), Caller(gate, "b", log)
    await a.holding.wait()
    await b.holding.wait()
    assert (gate.in_flight, gate.waiting) == (2, 0)
    await a.done()
    await b.done()
    assert (gate.in_flight, gate.waiting) == (0, 0)
    assert gate.describe() == {"target": TARGET, "in_flight": 0, "waiting": 0, "max_waiting": 0}


async def test_waiters_get_freed_slots_first_in_first_out() -> None:
    gate = ModelGate(TARGET, limit=1, queue_limit=5)
    log: list[str] = []
    first = Caller(gate, "first", log)
    await first.holding.wait()
    later = [Caller(gate, name, log) for name in ("b", "c", "d")]
    await queued(gate, 3)
    assert gate.max_waiting == 3
    await first.done()
    for caller in later:
        await caller.holding.wait()
        assert (gate.in_flight, gate.waiting) == (1, later[::-1].index(caller))
        await caller.done()
    assert log == ["first", "b", "c", "d"]
    assert gate.in_flight == 0


async def test_a_full_queue_is_refused_at_once_with_429() -> None:
    gate = ModelGate(TARGET, limit=1, queue_limit=1)
    log: list[str] = []
    holder = Caller(gate, "holder", log)
    await holder.holding.wait()
    waiter = Caller(gate, "waiter", log)
    await queued(gate, 1)
    problem = await refusal(gate, 60)
    assert (problem.status, problem.slug) == (429, "overloaded")
    assert problem.detail is not None
    assert f"{TARGET} has 1 calls in flight and 1 waiting" in problem.detail
    assert problem.headers == {"Retry-After": "2"}
    await holder.done()
    await waiter.done()
    assert log == ["holder", "waiter"]


async def test_no_time_to_wait_is_refused_with_503() -> None:
    gate = ModelGate(TARGET, limit=1, queue_limit=5)
    holder = Caller(gate, "holder", [])
    await holder.holding.wait()
    problem = await refusal(gate, 0)
    assert (problem.status, problem.slug) == (503, "queue-timeout")
    assert gate.waiting == 0
    await holder.done()


async def test_a_waiter_out_of_time_leaves_the_queue_with_503() -> None:
    gate = ModelGate(TARGET, limit=1, queue_limit=5)
    holder = Caller(gate, "holder", [])
    await holder.holding.wait()
    problem = await refusal(gate, 0.01)
    assert (problem.status, problem.slug) == (503, "queue-timeout")
    assert problem.detail is not None
    assert "within 0.01 s" in problem.detail
    assert (gate.in_flight, gate.waiting) == (1, 0)
    await holder.done()
    assert gate.in_flight == 0


async def test_a_cancelled_waiter_leaves_the_queue_and_takes_no_slot() -> None:
    gate = ModelGate(TARGET, limit=1, queue_limit=5)
    log: list[str] = []
    holder = Caller(gate, "holder", log)
    await holder.holding.wait()
    gone, next_one = Caller(gate, "gone", log), Caller(gate, "next", log)
    await queued(gate, 2)
    gone.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone.task
    assert gate.waiting == 1
    await holder.done()
    await next_one.holding.wait()
    await next_one.done()
    assert log == ["holder", "next"]
    assert gate.in_flight == 0


async def test_a_slot_handed_to_a_caller_who_left_passes_on() -> None:
    gate = ModelGate(TARGET, limit=1, queue_limit=5)
    log: list[str] = []
    async with gate.slot(60):
        gone, next_one = Caller(gate, "gone", log), Caller(gate, "next", log)
        await queued(gate, 2)
    # The slot was handed to `gone` as this block ended; it leaves before it ever runs.
    gone.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone.task
    await next_one.holding.wait()
    assert (gate.in_flight, gate.waiting) == (1, 0)
    await next_one.done()
    assert log == ["next"]
    assert gate.in_flight == 0


async def test_retry_after_is_the_mean_hold_times_the_calls_ahead_over_the_slots() -> None:
    clock = FakeClock(0.0)
    gate = ModelGate(TARGET, limit=2, queue_limit=10, clock=clock)
    # Before any call has ended the mean hold is 1 s: nothing ahead still says 1.
    assert gate.retry_after() == "1"
    callers = [Caller(gate, str(i), []) for i in range(5)]
    await callers[0].holding.wait()
    await callers[1].holding.wait()
    await queued(gate, 3)
    assert gate.retry_after() == "3"  # ceil(1 s * 5 ahead / 2 slots)
    clock.now = 11.0  # the first call held its slot 11 s: the mean moves a fifth of the way
    await callers[0].done()
    await callers[2].holding.wait()
    assert gate.retry_after() == "6"  # ceil(3 s * 4 ahead / 2): one left, one moved up
    for caller in callers[1:]:
        await caller.holding.wait()
        await caller.done()


async def test_retry_after_is_at_most_a_minute() -> None:
    clock = FakeClock(0.0)
    gate = ModelGate(TARGET, limit=1, queue_limit=100, clock=clock)
    holder = Caller(gate, "holder", [])
    await holder.holding.wait()
    clock.now = 10_000.0
    await holder.done()
    assert gate.retry_after() == "1"
    waiters = [Caller(gate, str(i), []) for i in range(2)]
    await waiters[0].holding.wait()
    await queued(gate, 1)
    assert gate.retry_after() == "60"
    for caller in waiters:
        await caller.holding.wait()
        await caller.done()


def test_admission_makes_one_gate_per_target() -> None:
    admission = Admission(limit=3, queue_limit=7)
    gate = admission.gate(TARGET)
    assert admission.gate(TARGET) is gate
    other = admission.gate("stability.sd3-5-large-v1:0")
    assert other is not gate
    assert (gate.limit, gate.queue_limit) == (3, 7)
    assert [d["target"] for d in admission.describe()] == [TARGET, "stability.sd3-5-large-v1:0"]
