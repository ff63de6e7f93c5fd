"""Circuit breaking: a model that keeps failing in a region is failed fast, then probed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from emulator.testing import EmulatorServer
from tests.support.clock import FakeClock
from tests.support.gateway import settings_for
from tests.support.problems import assert_problem
from tests.support.resilience import (
    REQUEST,
    T2I,
    TITAN,
    Gateway,
    assert_images,
    calls,
    open_resilient,
    until,
)

OUTAGES = ["InternalServerException", "ServiceUnavailableException", "ModelTimeoutException"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def gw(emulator: EmulatorServer, clock: FakeClock) -> AsyncIterator[Gateway]:
    # One call per request, so each request is one failure the breaker counts.
    settings = settings_for(
        emulator,
        max_attempts=1,
        retry_base_s=0,
        breaker_failure_threshold=2,
        breaker_cooldown_s=30,
    )
    async with open_resilient(settings) as gateway:
        gateway.bedrock.clock = clock
        yield gateway


def state(gw: Gateway) -> str:
    [circuit] = gw.bedrock.circuits()
    assert (circuit["target"], circuit["region"]) == (TITAN, "us-east-1")
    return str(circuit["state"])


async def trip(
    gw: Gateway, emulator: EmulatorServer, fault: str = "InternalServerException"
) -> None:
    emulator.set_faults(schedule=[{"fault": fault, "times": 2}])
    # Two different bodies (seeds aside): a body that fails again is counted once
    # (test_breaker_bodies.py).
    for take in (1, 2):
        body = {**REQUEST, "prompt": f"{REQUEST['prompt']}, take {take}"}
        assert (await gw.http.post(T2I, json=body)).status_code >= 500
    assert state(gw) == "open"


@pytest.mark.parametrize("fault", [*OUTAGES, "DropConnection"])
async def test_threshold_outages_open_it_and_the_next_call_fails_fast(
    gw: Gateway, emulator: EmulatorServer, fault: str
) -> None:
    await trip(gw, emulator, fault)
    response = await gw.http.post(T2I, json=REQUEST)
    problem = assert_problem(response, 503, "circuit-open")
    assert response.headers["retry-after"] == "30"
    assert "us-east-1" in problem["detail"]
    assert calls(emulator) == 2  # the third request never reached Bedrock
    assert gw.count("rejected", "circuit-open") == 1
    assert gw.count("breaker", "us-east-1", "open") == 1


async def test_retry_after_is_what_is_left_of_the_cool_down(
    gw: Gateway, emulator: EmulatorServer, clock: FakeClock
) -> None:
    await trip(gw, emulator)
    clock.advance(10.5)
    response = await gw.http.post(T2I, json=REQUEST)
    assert_problem(response, 503, "circuit-open")
    assert response.headers["retry-after"] == "20"  # 19.5 s, rounded up
    assert gw.bedrock.circuits()[0]["retry_after_s"] == 20


async def test_after_the_cool_down_one_probe_passes_and_its_success_closes_it(
    gw: Gateway, emulator: EmulatorServer, clock: FakeClock
) -> None:
    await trip(gw, emulator)
    clock.advance(30)
    assert_images(await gw.http.post(T2I, json=REQUEST))
    assert state(gw) == "closed"
    assert_images(await gw.http.post(T2I, json=REQUEST))
    assert calls(emulator) == 4
    assert gw.counted("breaker") == {
        (TITAN, "us-east-1", "open"): 1,
        (TITAN, "us-east-1", "half_open"): 1,
        (TITAN, "us-east-1", "closed"): 1,
    }


async def test_a_failed_probe_reopens_it_for_another_cool_down(
    gw: Gateway, emulator: EmulatorServer, clock: FakeClock
) -> None:
    await trip(gw, emulator)
    clock.advance(31)
    emulator.set_faults(schedule=[{"fault": "ServiceUnavailableException", "times": 1}])
    assert (await gw.http.post(T2I, json=REQUEST)).status_code == 503
    assert state(gw) == "open"
    response = await gw.http.post(T2I, json=REQUEST)
    assert_problem(response, 503, "circuit-open")
    assert response.headers["retry-after"] == "30"
    assert calls(emulator) == 3


async def test_while_the_probe_is_in_flight_other_calls_fail_fast(
    gw: Gateway, emulator: EmulatorServer, clock: FakeClock
) -> None:
    await trip(gw, emulator)
    clock.advance(30)
    emulator.set_faults(latency_ms={"*": 1500})
    probe = asyncio.create_task(gw.http.post(T2I, json=REQUEST))
    await until(emulator, in_flight=1)
    assert state(gw) == "half_open"
    response = await gw.http.post(T2I, json=REQUEST)
    assert_problem(response, 503, "circuit-open")
    assert response.headers["retry-after"] == "1"
    assert_images(await probe)
    assert state(gw) == "closed"
    assert calls(emulator) == 3


async def test_throttling_never_opens_it(gw: Gateway, emulator: EmulatorServer) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 5}])
    for _ in range(5):
        assert_problem(await gw.http.post(T2I, json=REQUEST), 429, "upstream-throttled")
    assert state(gw) == "closed"
    assert_images(await gw.http.post(T2I, json=REQUEST))


async def test_an_answer_from_bedrock_resets_the_count(
    gw: Gateway, emulator: EmulatorServer
) -> None:
    emulator.set_faults(
        schedule=[
            {"fault": "InternalServerException", "times": 1},
            {"fault": "ValidationException", "times": 1},
            {"fault": "InternalServerException", "times": 1},
        ]
    )
    codes = [(await gw.http.post(T2I, json=REQUEST)).json()["upstream_error"] for _ in range(3)]
    assert codes == ["InternalServerException", "ValidationException", "InternalServerException"]
    assert state(gw) == "closed"
    assert gw.bedrock.circuits()[0]["failures"] == 1


async def test_the_retries_of_one_body_count_once(emulator: EmulatorServer) -> None:
    settings = settings_for(emulator, max_attempts=5, retry_base_s=0, breaker_failure_threshold=2)
    async with open_resilient(settings) as gw:
        emulator.set_faults(schedule=[{"fault": "InternalServerException", "times": 10}])
        response = await gw.http.post(T2I, json=REQUEST)
        assert response.json()["upstream_error"] == "InternalServerException"
        # Every attempt was made: five failures of one body are one failure to the breaker.
        assert calls(emulator) == 5
        [circuit] = gw.bedrock.circuits()
        assert (circuit["state"], circuit["failures"]) == ("closed", 1)
        # A second body failing opens it (threshold 2), and the next request fails fast.
        other = await gw.http.post(T2I, json={**REQUEST, "prompt": "another body"})
        assert other.json()["upstream_error"] == "InternalServerException"
        assert calls(emulator) == 6
        assert_problem(await gw.http.post(T2I, json=REQUEST), 503, "circuit-open")
        assert calls(emulator) == 6
