"""Backpressure: a few calls in flight per model, a bounded queue, fast refusals (Retry-After)."""

from __future__ import annotations

import asyncio
import random
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from app.bedrock.admission import ModelGate
from emulator.testing import EmulatorServer
from tests.support.gateway import settings_for
from tests.support.problems import assert_problem
from tests.support.resilience import (
    REQUEST,
    T2I,
    TITAN,
    assert_images,
    calls,
    open_resilient,
    until,
)


class Arrivals:
    """Counts the callers coming to a gate, and lets the test wait for them on an event.

    It wraps the gate's `slot`: a caller is counted as it asks for a slot, and it then takes one
    or joins the queue without yielding to the event loop, so by the time a test waiting here
    runs again, every counted caller holds a slot or waits in the queue.
    """

    def __init__(self, gate: ModelGate) -> None:
        self.count = 0
        self._arrived = asyncio.Event()
        slot = gate.slot

        def counted(wait_s: float) -> AbstractAsyncContextManager[None]:
            self.count += 1
            self._arrived.set()
            return slot(wait_s)

        gate.slot = counted  # type: ignore[method-assign,assignment]

    async def reached(self, count: int) -> None:
        """Wait until `count` callers have come to the gate."""
        while self.count < count:
            self._arrived.clear()
            await self._arrived.wait()


def assert_refused(response: httpx.Response) -> str:
    """A fast refusal: 429 overloaded or 503 queue-timeout, with a whole-second Retry-After."""
    slug = "overloaded" if response.status_code == 429 else "queue-timeout"
    assert_problem(response, 429 if slug == "overloaded" else 503, slug)
    assert int(response.headers["retry-after"]) >= 1
    return slug


class PauseSignal(random.Random):
    """Jitter that tells the test when a pause starts, and makes it long."""

    def __init__(self) -> None:
        super().__init__()
        self.pausing = asyncio.Event()

    def uniform(self, a: float, b: float) -> float:
        self.pausing.set()
        return 30.0


class TestBurst:
    async def test_a_burst_far_over_the_caps_is_refused_fast_and_bounded(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, max_concurrency_per_model=2, max_queue_per_model=2)
        async with open_resilient(settings) as gw:
            emulator.set_faults(latency_ms={"*": 300})
            responses = await asyncio.gather(*(gw.http.post(T2I, json=REQUEST) for _ in range(40)))
            gate = gw.bedrock.admission.gate(TITAN)
        served = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code != 200]
        for response in served:
            assert_images(response)
        slugs = {assert_refused(response) for response in refused}
        assert slugs <= {"overloaded", "queue-timeout"}
        assert len(served) == calls(emulator) >= 2
        rejected = gw.count("rejected", "overloaded") + gw.count("rejected", "queue-timeout")
        assert len(refused) == rejected >= 20
        assert emulator.stats()["max_in_flight"] <= 2
        assert gate.max_waiting <= 2
        assert (gate.in_flight, gate.waiting) == (0, 0)

    async def test_with_the_slots_and_queue_full_every_newcomer_is_429_at_once(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, max_concurrency_per_model=2, max_queue_per_model=2)
        async with open_resilient(settings) as gw:
            gate = gw.bedrock.admission.gate(TITAN)
            # Without a job queue the slots are this process's own, not Redis leases.
            assert isinstance(gate, ModelGate)
            arrivals = Arrivals(gate)
            emulator.set_faults(latency_ms={"*": 2000})
            running = [asyncio.create_task(gw.http.post(T2I, json=REQUEST)) for _ in range(2)]
            await until(emulator, in_flight=2)
            queued = [asyncio.create_task(gw.http.post(T2I, json=REQUEST)) for _ in range(2)]
            await arrivals.reached(4)
            assert (gate.in_flight, gate.waiting) == (2, 2)
            # The slots and the queue are full: 36 more are refused without waiting for either.
            burst = await asyncio.gather(*(gw.http.post(T2I, json=REQUEST) for _ in range(36)))
            assert emulator.stats()["in_flight"] == 2  # refused while the first two still ran
            for response in burst:
                problem = assert_problem(response, 429, "overloaded")
                assert int(response.headers["retry-after"]) >= 1
                assert "2 calls in flight and 2 waiting" in problem["detail"]
            for response in await asyncio.gather(*running, *queued):
                assert_images(response)
            assert gw.count("rejected", "overloaded") == 36
        assert calls(emulator) == 4
        assert emulator.stats()["max_in_flight"] == 2
        assert gate.max_waiting == 2

    async def test_a_wait_longer_than_the_queue_timeout_is_503(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(
            emulator, max_concurrency_per_model=1, max_queue_per_model=8, queue_timeout_s=0.05
        )
        async with open_resilient(settings) as gw:
            emulator.set_faults(latency_ms={"*": 1500})
            first = asyncio.create_task(gw.http.post(T2I, json=REQUEST))
            await until(emulator, in_flight=1)
            waited = await asyncio.gather(*(gw.http.post(T2I, json=REQUEST) for _ in range(3)))
            for response in waited:
                assert_problem(response, 503, "queue-timeout")
                assert int(response.headers["retry-after"]) >= 1
            assert_images(await first)
            assert gw.count("rejected", "queue-timeout") == 3
        assert calls(emulator) == 1

    async def test_the_bedrock_surface_says_throttling(self, emulator: EmulatorServer) -> None:
        settings = settings_for(emulator, max_concurrency_per_model=1, max_queue_per_model=0)
        async with open_resilient(settings) as gw:
            emulator.set_faults(latency_ms={"*": 1500})
            first = asyncio.create_task(gw.http.post(T2I, json=REQUEST))
            await until(emulator, in_flight=1)
            body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a red barn"}}
            response = await gw.http.post(f"/model/{TITAN}/invoke", json=body)
            assert response.status_code == 429, response.text
            assert response.headers["x-amzn-ErrorType"] == "ThrottlingException"
            assert_images(await first)
        assert calls(emulator) == 1


class TestSlots:
    async def test_a_slot_is_not_held_during_a_pause(self, emulator: EmulatorServer) -> None:
        # One slot, no queue: were the throttled caller holding it while it pauses, the next
        # caller would be refused at once.
        settings = settings_for(emulator, max_concurrency_per_model=1, max_queue_per_model=0)
        async with open_resilient(settings) as gw:
            signal = PauseSignal()
            gw.bedrock.backoff.rng = signal
            emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
            paused = asyncio.create_task(gw.http.post(T2I, json=REQUEST))
            await signal.pausing.wait()
            assert gw.bedrock.admission.gate(TITAN).in_flight == 0
            assert_images(await gw.http.post(T2I, json=REQUEST))
            paused.cancel()
            with pytest.raises(asyncio.CancelledError):
                await paused
        assert calls(emulator) == 2

    async def test_cancelling_an_in_flight_call_releases_its_slot(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, max_concurrency_per_model=1, max_queue_per_model=0)
        async with open_resilient(settings) as gw:
            emulator.set_faults(latency_ms={"*": 3000})
            doomed = asyncio.create_task(gw.http.post(T2I, json=REQUEST))
            await until(emulator, in_flight=1)
            doomed.cancel()
            with pytest.raises(asyncio.CancelledError):
                await doomed
            gate = gw.bedrock.admission.gate(TITAN)
            assert (gate.in_flight, gate.waiting) == (0, 0)
            emulator.set_faults(latency_ms={})
            assert_images(await gw.http.post(T2I, json=REQUEST))
            # A cancellation says nothing about the region: the breaker was not charged.
            assert [c["failures"] for c in gw.bedrock.circuits()] == [0]
            assert gw.counted("retry") == {}
        assert calls(emulator) == 2

    async def test_cancelling_abandons_the_bedrock_call(self, emulator: EmulatorServer) -> None:
        # SlowResponse holds the answer until the client hangs up: the emulator's call ends only
        # if cancelling the request closed the connection to it.
        async with open_resilient(settings_for(emulator)) as gw:
            emulator.set_faults(schedule=[{"fault": "SlowResponse"}], slow_ms=60_000)
            doomed = asyncio.create_task(gw.http.post(T2I, json=REQUEST))
            await until(emulator, in_flight=1)
            doomed.cancel()
            with pytest.raises(asyncio.CancelledError):
                await doomed
            await until(emulator, in_flight=0)
        assert calls(emulator) == 1
