"""Fan-out: the calls of one request reach Bedrock concurrently, under the per-model cap."""

from __future__ import annotations

import httpx

from emulator.testing import EmulatorServer
from tests.support.gateway import open_gateway, settings_for


async def test_sdxl_n10_calls_run_concurrently(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    # Latency keeps each call open long enough for the others to start: the high-water mark, not a
    # clock, shows that they overlapped.
    emulator.set_faults(latency_ms={"*": 300})
    response = await gateway.post(
        "/v1/images/text-to-image", json={"model": "sdxl", "prompt": "boats", "n": 10}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["images"]) == 10
    stats = emulator.stats()
    assert stats["total"] == 10
    assert stats["max_in_flight"] == 10


async def test_titan_n10_is_two_concurrent_calls(
    gateway: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    emulator.set_faults(latency_ms={"*": 300})
    response = await gateway.post("/v1/images/text-to-image", json={"prompt": "boats", "n": 10})
    assert response.status_code == 200, response.text
    assert emulator.stats()["max_in_flight"] == 2


async def test_per_model_cap_bounds_concurrency(emulator: EmulatorServer) -> None:
    emulator.set_faults(latency_ms={"*": 200})
    async with open_gateway(settings_for(emulator, max_concurrency_per_model=3)) as client:
        response = await client.post(
            "/v1/images/text-to-image", json={"model": "sdxl", "prompt": "boats", "n": 10}
        )
        assert response.status_code == 200, response.text
    stats = emulator.stats()
    assert stats["total"] == 10
    assert stats["max_in_flight"] == 3
