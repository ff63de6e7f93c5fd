"""A frozen Redis never holds a finished answer, and its outage is logged once (issue 17,
finding 7): `python -m app` with the Redis quota backend, and a real redis-server stopped in its
tracks (SIGSTOP) mid-test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.redis_server import RedisServer
from tests.support.served import ServedGateway

T2I = "/v1/images/text-to-image"
REQUEST = {"prompt": "a red kite", "width": 512, "height": 512}


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, to freeze."""
    with RedisServer() as server:
        yield server


def served(emulator: EmulatorServer, redis: RedisServer, timeout_s: float) -> ServedGateway:
    return ServedGateway(
        emulator,
        GATEWAY_QUOTA_BACKEND="redis",
        GATEWAY_REDIS_URL=redis.url,
        GATEWAY_REDIS_TIMEOUT_S=str(timeout_s),
        GATEWAY_DEFAULT_LIMITS=json.dumps({"concurrent_requests": 4, "requests_per_minute": 100}),
    )


def test_a_frozen_redis_does_not_hold_a_finished_answer(
    emulator: EmulatorServer, redis: RedisServer
) -> None:
    # Redis commands may wait a minute: were the answer to wait for the slot's release, it would
    # not come back before the client gives up (30 s).
    with served(emulator, redis, timeout_s=60) as gateway, ThreadPoolExecutor(1) as pool:
        emulator.hold()
        pending = pool.submit(httpx.post, f"{gateway.url}{T2I}", json=REQUEST, timeout=30)
        emulator.wait_for(in_flight=1)  # admitted: its slot is held in Redis
        redis.freeze()
        try:
            emulator.release()
            answer = pending.result()
        finally:
            redis.thaw()
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["images"]) == 1
        assert answer.headers["RateLimit"].startswith('"rpm";r=99')
        # Redis back: the slot was given back, the next request is admitted.
        again = httpx.post(f"{gateway.url}{T2I}", json=REQUEST, timeout=30)
        assert again.status_code == 200, again.text


def test_an_outage_is_logged_once_however_many_requests_meet_it(
    emulator: EmulatorServer, redis: RedisServer
) -> None:
    with served(emulator, redis, timeout_s=0.5) as gateway:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            redis.freeze()
            try:
                refused = [client.post(T2I, json=REQUEST) for _ in range(6)]
            finally:
                redis.thaw()
            back = client.post(T2I, json=REQUEST)
        for answer in refused:
            assert answer.status_code == 503
            assert answer.json()["type"] == "/problems/quota-unavailable"
        assert back.status_code == 200, back.text
        gateway.wait_for_text("the quota store is reachable again")
        quota_lines = [r for r in gateway.records() if r["logger"] == "app.quotas"]
    assert [r["level"] for r in quota_lines] == ["error", "warning"]
    assert "cannot be reached" in quota_lines[0]["message"]
    assert "(6 calls failed)" in quota_lines[1]["message"]
    statuses = [r["status"] for r in gateway.records() if r.get("path") == T2I]
    assert statuses == [503, 503, 503, 503, 503, 503, 200]
