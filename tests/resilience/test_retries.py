"""Retries: transient faults are retried within max_attempts and the deadline, others never."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from emulator.testing import EmulatorServer
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
)

# Fault -> the cause the retry counter names. SlowResponse answers after the read timeout.
RETRYABLE = {
    "ThrottlingException": "ThrottlingException",
    "ModelNotReadyException": "ModelNotReadyException",
    "InternalServerException": "InternalServerException",
    "ServiceUnavailableException": "ServiceUnavailableException",
    "ModelTimeoutException": "ModelTimeoutException",
    "DropConnection": "ConnectionError",
    "SlowResponse": "ReadTimeout",
}
NOT_RETRYABLE = [
    "ValidationException",
    "ServiceQuotaExceededException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ModelErrorException",
]
FAST: dict[str, Any] = {"retry_base_s": 0, "read_timeout_s": 0.5}
# A deadline well inside the read timeout and the emulator's latency, and long enough that the
# request reaches Bedrock before it passes even on a loaded machine.
SHORT_DEADLINE: dict[str, Any] = {"retry_base_s": 0, "read_timeout_s": 30, "request_deadline_s": 2}
HELD_FOR_S = 60_000


class Largest(random.Random):
    """Jitter pinned to its ceiling: every pause is the longest the policy allows."""

    def __init__(self) -> None:
        super().__init__()
        self.ceilings: list[float] = []

    def uniform(self, a: float, b: float) -> float:
        self.ceilings.append(b)
        return b


@pytest.fixture
async def gw(emulator: EmulatorServer) -> AsyncIterator[Gateway]:
    async with open_resilient(settings_for(emulator, **FAST)) as gateway:
        yield gateway


def fault(name: str, times: int) -> dict[str, Any]:
    plan: dict[str, Any] = {"schedule": [{"fault": name, "times": times}]}
    if name == "SlowResponse":
        plan["slow_ms"] = 20_000  # far past the 0.5 s read timeout; the emulator stops on hang-up
    return plan


@pytest.mark.parametrize("name", sorted(RETRYABLE))
async def test_a_fault_that_clears_within_max_attempts_is_retried_to_success(
    gw: Gateway, emulator: EmulatorServer, name: str
) -> None:
    emulator.set_faults(**fault(name, times=2))
    response = await gw.http.post(T2I, json=REQUEST)
    assert_images(response)
    assert calls(emulator) == 3
    # Every attempt sent the same body.
    bodies = [record["body"] for record in emulator.requests()]
    assert bodies[0] is not None
    assert bodies == [bodies[0]] * 3
    assert gw.counted("retry") == {(TITAN, RETRYABLE[name]): 2}
    assert gw.count("attempt", "us-east-1") == 3


@pytest.mark.parametrize("name", NOT_RETRYABLE)
async def test_a_non_retryable_fault_is_one_call(
    gw: Gateway, emulator: EmulatorServer, name: str
) -> None:
    emulator.set_faults(**fault(name, times=5))
    response = await gw.http.post(T2I, json=REQUEST)
    assert response.status_code >= 400, response.text
    assert response.json()["upstream_error"] == name
    assert calls(emulator) == 1
    assert gw.counted("retry") == {}


@pytest.mark.parametrize("name", sorted(RETRYABLE))
async def test_a_fault_that_never_clears_answers_what_one_call_maps_to(
    emulator: EmulatorServer, name: str
) -> None:
    # The same fault through a gateway that calls once: the retry layer must be transparent.
    async with open_resilient(settings_for(emulator, max_attempts=1, **FAST)) as once:
        emulator.set_faults(**fault(name, times=1))
        single = await once.http.post(T2I, json=REQUEST)
    emulator.reset()
    async with open_resilient(settings_for(emulator, max_attempts=4, **FAST)) as gw:
        emulator.set_faults(**fault(name, times=100))
        response = await gw.http.post(T2I, json=REQUEST)
        assert calls(emulator) == 4  # botocore adds none of its own
        assert gw.counted("retry") == {(TITAN, RETRYABLE[name]): 3}
    assert response.status_code == single.status_code >= 400
    exhausted, first = response.json(), single.json()
    assert (exhausted["type"], exhausted.get("upstream_error")) == (
        first["type"],
        first.get("upstream_error"),
    )
    assert response.headers.get("retry-after") == single.headers.get("retry-after")


class TestDeadline:
    async def test_a_call_outlasting_the_deadline_is_504_deadline_exceeded(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, **SHORT_DEADLINE)
        async with open_resilient(settings) as gw:
            emulator.set_faults(latency_ms={"*": HELD_FOR_S})
            response = await gw.http.post(T2I, json=REQUEST)
            assert_problem(response, 504, "deadline-exceeded")
            assert calls(emulator) == 1
            assert gw.count("rejected", "deadline-exceeded") == 1

    async def test_a_pause_ending_past_the_deadline_is_not_taken(
        self, emulator: EmulatorServer
    ) -> None:
        # The pause after the first round would be 1000 s, past the 60 s deadline: the caller
        # gets the throttling at once, after one call.
        settings = settings_for(
            emulator, retry_base_s=1000, retry_cap_s=1000, request_deadline_s=60
        )
        async with open_resilient(settings) as gw:
            gw.bedrock.backoff.rng = Largest()
            emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
            response = await gw.http.post(T2I, json=REQUEST)
            problem = assert_problem(response, 429, "upstream-throttled")
            assert problem["upstream_error"] == "ThrottlingException"
            assert calls(emulator) == 1
            assert gw.counted("retry") == {}

    async def test_pauses_grow_to_the_cap_and_none_follows_the_last_attempt(
        self, emulator: EmulatorServer
    ) -> None:
        settings = settings_for(emulator, max_attempts=4, retry_base_s=0.001, retry_cap_s=0.003)
        async with open_resilient(settings) as gw:
            gw.bedrock.backoff.rng = jitter = Largest()
            emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 100}])
            assert_problem(await gw.http.post(T2I, json=REQUEST), 429, "upstream-throttled")
            assert calls(emulator) == 4
            assert jitter.ceilings == [0.001, 0.002, 0.003]

    async def test_a_pause_within_the_deadline_is_taken(self, emulator: EmulatorServer) -> None:
        settings = settings_for(emulator, retry_base_s=0.01, retry_cap_s=0.01)
        async with open_resilient(settings) as gw:
            gw.bedrock.backoff.rng = jitter = Largest()
            emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
            assert_images(await gw.http.post(T2I, json=REQUEST))
            assert calls(emulator) == 2
            assert jitter.ceilings == [0.01]


TITAN_BODY = {
    "taskType": "TEXT_IMAGE",
    "textToImageParams": {"text": "a red barn"},
    "imageGenerationConfig": {"numberOfImages": 1, "width": 512, "height": 512, "seed": 7},
}


class TestBedrockSurface:
    """The pass-through (`POST /model/{id}/invoke`) goes through the same client."""

    async def test_retried_to_success_with_the_exact_body_each_time(
        self, gw: Gateway, emulator: EmulatorServer
    ) -> None:
        raw = orjson.dumps(TITAN_BODY)
        emulator.set_faults(schedule=[{"fault": "ServiceUnavailableException", "times": 2}])
        response = await gw.http.post(f"/model/{TITAN}/invoke", content=raw)
        assert response.status_code == 200, response.text
        assert len(response.json()["images"]) == 1
        assert [record["body"] for record in emulator.requests()] == [TITAN_BODY] * 3

    async def test_the_deadline_is_a_model_timeout(self, emulator: EmulatorServer) -> None:
        settings = settings_for(emulator, **SHORT_DEADLINE)
        async with open_resilient(settings) as gw:
            emulator.set_faults(latency_ms={"*": HELD_FOR_S})
            response = await gw.http.post(f"/model/{TITAN}/invoke", json=TITAN_BODY)
            assert response.status_code == 408, response.text
            assert response.headers["x-amzn-ErrorType"] == "ModelTimeoutException"
            assert calls(emulator) == 1
