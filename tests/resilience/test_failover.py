"""Failover: throttling or an outage in a model's first region moves the call to the next one.

Two emulators stand for two regions: us-east-1 (the session's) and us-west-2 (this module's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest

from app.settings import Settings
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
)

EAST, WEST = "us-east-1", "us-west-2"
PASS_THROUGH_BODY = {
    "taskType": "TEXT_IMAGE",
    "textToImageParams": {"text": "a lighthouse at dusk"},
    "imageGenerationConfig": {"numberOfImages": 1, "width": 512, "height": 512, "seed": 11},
}


@pytest.fixture(scope="module")
def west_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def west(west_server: EmulatorServer) -> EmulatorServer:
    west_server.reset()
    return west_server


def two_regions(east: EmulatorServer, west: EmulatorServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"retry_base_s": 0}
    values.update(overrides)
    return settings_for(
        east,
        endpoints={EAST: east.url, WEST: west.url},
        models=[{"id": TITAN, "fallback_regions": [WEST]}],
        **values,
    )


@pytest.fixture
async def gw(emulator: EmulatorServer, west: EmulatorServer) -> AsyncIterator[Gateway]:
    async with open_resilient(two_regions(emulator, west)) as gateway:
        yield gateway


@pytest.mark.parametrize(
    "fault",
    [
        "ThrottlingException",
        "ModelNotReadyException",
        "ServiceUnavailableException",
        "InternalServerException",
        "DropConnection",
    ],
)
async def test_a_failing_first_region_moves_the_call_to_the_next(
    gw: Gateway, emulator: EmulatorServer, west: EmulatorServer, fault: str
) -> None:
    emulator.set_faults(schedule=[{"fault": fault, "times": 1}])
    assert_images(await gw.http.post(T2I, json=REQUEST))
    [east_call] = emulator.requests()
    [west_call] = west.requests()
    assert west_call["model_id"] == TITAN
    assert west_call["body"] == east_call["body"]
    assert west_call["body"]["textToImageParams"] == {"text": "a red barn"}
    assert gw.counted("failover") == {(TITAN, EAST, WEST): 1}
    assert gw.count("attempt", EAST) == gw.count("attempt", WEST) == 1


async def test_the_pass_through_fails_over_with_the_callers_exact_bytes(
    gw: Gateway, emulator: EmulatorServer, west: EmulatorServer
) -> None:
    raw = orjson.dumps(PASS_THROUGH_BODY)
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    response = await gw.http.post(f"/model/{TITAN}/invoke", content=raw)
    assert response.status_code == 200, response.text
    assert len(response.json()["images"]) == 1
    [west_call] = west.requests()
    assert west_call["body"] == PASS_THROUGH_BODY
    assert west_call["body_bytes"] == len(raw)


async def test_a_non_retryable_error_does_not_move(
    gw: Gateway, emulator: EmulatorServer, west: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "AccessDeniedException", "times": 1}])
    response = await gw.http.post(T2I, json=REQUEST)
    assert response.json()["upstream_error"] == "AccessDeniedException"
    assert calls(emulator) == 1
    assert west.requests() == []


async def test_after_a_full_round_the_call_starts_again_from_the_first_region(
    gw: Gateway, emulator: EmulatorServer, west: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    west.set_faults(schedule=[{"fault": "ThrottlingException", "times": 1}])
    assert_images(await gw.http.post(T2I, json=REQUEST))
    assert (calls(emulator), calls(west)) == (2, 1)
    assert gw.counted("failover") == {(TITAN, EAST, WEST): 1, (TITAN, WEST, EAST): 1}


async def test_max_attempts_counts_calls_across_regions(
    gw: Gateway, emulator: EmulatorServer, west: EmulatorServer
) -> None:
    emulator.set_faults(schedule=[{"fault": "ServiceUnavailableException", "times": 100}])
    west.set_faults(schedule=[{"fault": "ServiceUnavailableException", "times": 100}])
    response = await gw.http.post(T2I, json=REQUEST)
    assert response.status_code == 503
    assert response.json()["upstream_error"] == "ServiceUnavailableException"
    assert (calls(emulator), calls(west)) == (2, 1)  # max_attempts 3: east, west, east


class TestOpenCircuit:
    @pytest.fixture
    async def gw(self, emulator: EmulatorServer, west: EmulatorServer) -> AsyncIterator[Gateway]:
        settings = two_regions(emulator, west, breaker_failure_threshold=1, breaker_cooldown_s=30)
        async with open_resilient(settings) as gateway:
            gateway.bedrock.clock = self.clock = FakeClock()
            yield gateway

    async def test_an_open_first_region_sends_calls_straight_to_the_next(
        self, gw: Gateway, emulator: EmulatorServer, west: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "InternalServerException", "times": 1}])
        assert_images(await gw.http.post(T2I, json=REQUEST))  # east fails and opens; west serves
        for _ in range(3):
            assert_images(await gw.http.post(T2I, json=REQUEST))
        assert (calls(emulator), calls(west)) == (1, 4)
        assert gw.counted("failover") == {(TITAN, EAST, WEST): 1}
        states = {c["region"]: c["state"] for c in gw.bedrock.circuits()}
        assert states == {EAST: "open", WEST: "closed"}
        # After the cool-down east is probed again, and serves.
        self.clock.advance(30)
        assert_images(await gw.http.post(T2I, json=REQUEST))
        assert (calls(emulator), calls(west)) == (2, 4)
        assert {c["region"]: c["state"] for c in gw.bedrock.circuits()}[EAST] == "closed"

    async def test_open_in_every_region_is_circuit_open_with_the_shortest_cool_down(
        self, gw: Gateway, emulator: EmulatorServer, west: EmulatorServer
    ) -> None:
        emulator.set_faults(schedule=[{"fault": "InternalServerException", "times": 1}])
        assert_images(await gw.http.post(T2I, json=REQUEST))  # east opens
        self.clock.advance(10)
        west.set_faults(schedule=[{"fault": "InternalServerException", "times": 1}])
        response = await gw.http.post(T2I, json=REQUEST)  # west opens too; east not yet probed
        assert response.json()["upstream_error"] == "InternalServerException"
        response = await gw.http.post(T2I, json=REQUEST)
        assert_problem(response, 503, "circuit-open")
        assert response.headers["retry-after"] == "20"  # east's: 30 - 10
        assert (calls(emulator), calls(west)) == (1, 2)


async def test_models_list_the_fallback_regions(gw: Gateway) -> None:
    models = {m["id"]: m for m in (await gw.http.get("/v1/models")).json()["models"]}
    assert (models[TITAN]["region"], models[TITAN]["fallback_regions"]) == (EAST, [WEST])
    assert models["amazon.nova-canvas-v1:0"]["fallback_regions"] == []
