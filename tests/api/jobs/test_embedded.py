"""The embedded mode of `python -m app` (no GATEWAY_JOBS_REDIS_URL): a private redis-server and
the worker in the gateway's process, which then holds the per-model cap and the keys' budgets in
that process, one of each for requests and jobs; with a URL given, the cap stays in Redis."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis as redis_sync

from app.auth.keygen import hash_key
from app.bedrock.leases import PREFIX
from emulator.testing import EmulatorServer
from tests.support.redis_server import RedisServer
from tests.support.served import ServedGateway

TITAN = "amazon.titan-image-generator-v1"
T2I = "/v1/images/text-to-image"
JSONL = {"Content-Type": "application/jsonl"}
BODY = {"prompt": "a kite", "width": 512, "height": 512, "seed": 1}
# Priced at $0.14 an image (docs/spend.md): a $0.14 daily budget is one image.
ULTRA_BODY = {"model": "ultra", "prompt": "a lighthouse at dusk"}


def served(results: Path, **env: str) -> dict[str, str]:
    """The environment of a gateway whose results go to the test's directory."""
    return {"GATEWAY_RESULTS_DIR": str(results), "GATEWAY_RESULTS_SECRET": "s3cret", **env}


def batch_of(count: int) -> bytes:
    lines = (
        {"custom_id": f"line-{i}", "task": "text-to-image", "body": {**BODY, "seed": i}}
        for i in range(count)
    )
    return b"".join(orjson.dumps(item) + b"\n" for item in lines)


def embedded_redis(gateway: ServedGateway) -> redis_sync.Redis:
    """A client of the private redis-server the gateway started (its port is in its start line)."""
    line = gateway.wait_for_text("jobs: embedded redis-server on ")
    match = re.search(r"on 127\.0\.0\.1:(\d+)", line)
    assert match is not None, line
    return redis_sync.Redis(host="127.0.0.1", port=int(match.group(1)))


async def test_a_batch_and_synchronous_calls_keep_one_cap_together(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator.set_faults(latency_ms={"*": 20})
    env = served(tmp_path / "results", GATEWAY_MAX_CONCURRENCY_PER_MODEL="2")
    with ServedGateway(emulator, **env) as gateway:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=120) as client:
            submitted = await client.post("/v1/batches", content=batch_of(12), headers=JSONL)
            assert submitted.status_code == 202, submitted.text
            direct = await asyncio.gather(
                *(client.post(T2I, json={**BODY, "seed": 100 + i}) for i in range(12))
            )
            done = submitted.json()
            for _ in range(5):
                done = (await client.get(done["status_url"], params={"wait": 60})).json()
                if done["status"] == "completed":
                    break
    stats = emulator.stats()
    assert [answer.status_code for answer in direct] == [200] * 12
    assert done["counts"]["succeeded"] == 12
    assert stats["total"] == 24
    assert stats["max_in_flight"] == 2  # the worker's lines and the requests together


async def test_a_synchronous_call_waits_behind_a_batch_line_in_the_process(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = served(
        tmp_path / "results",
        GATEWAY_MAX_CONCURRENCY_PER_MODEL="1",
        GATEWAY_QUEUE_TIMEOUT_S="0.5",
    )
    with ServedGateway(emulator, **env) as gateway:
        store = embedded_redis(gateway)
        emulator.hold()
        try:
            async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
                await client.post("/v1/batches", content=batch_of(1), headers=JSONL)
                await asyncio.to_thread(emulator.wait_for, in_flight=1, timeout_s=60)
                direct = await client.post(T2I, json=BODY)
                in_flight = emulator.stats()["in_flight"]
                keys = [key.decode() for key in store.scan_iter()]
        finally:
            emulator.release()
            store.close()
    assert direct.status_code == 503
    problem = direct.json()
    assert problem["type"] == "/problems/queue-timeout"
    # The in-process gate's words: this process's calls, not shared slots.
    assert f"{TITAN} has 1 calls in flight" in problem["detail"]
    assert in_flight == 1
    assert any(key.startswith("arq:") for key in keys)  # the queue is in that Redis ...
    assert not [key for key in keys if key.startswith(PREFIX)]  # ... and no slot lease is


async def test_a_keys_budget_is_one_for_its_jobs_and_its_requests(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    keys = [
        {"name": name, "hash": hash_key(name), "budget": {"usd_per_day": 0.14}}
        for name in ("job-first", "call-first")
    ]
    env = served(tmp_path / "results", GATEWAY_API_KEYS=json.dumps(keys))
    with ServedGateway(emulator, **env) as gateway:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:

            async def job(key: str) -> dict[str, Any]:
                headers = {"X-API-Key": key}
                queued = await client.post(
                    "/v1/jobs/text-to-image", json=ULTRA_BODY, headers=headers
                )
                assert queued.status_code == 202, queued.text
                path = f"/v1/jobs/{queued.json()['id']}"
                ended: dict[str, Any] = (
                    await client.get(path, params={"wait": 60}, headers=headers)
                ).json()
                return ended

            job_ran = await job("job-first")
            call_after = await client.post(T2I, json=ULTRA_BODY, headers={"X-API-Key": "job-first"})
            call_ran = await client.post(T2I, json=ULTRA_BODY, headers={"X-API-Key": "call-first"})
            job_after = await job("call-first")
    assert job_ran["status"] == "succeeded"
    assert call_after.status_code == 402
    assert call_after.json()["remaining_usd"] == 0.0
    assert call_ran.status_code == 200
    assert job_after["status"] == "failed"
    assert job_after["error"]["type"] == "/problems/budget-exceeded"
    assert len(emulator.requests()) == 2


async def test_with_a_queue_url_given_the_cap_is_held_in_redis(
    emulator: EmulatorServer, redis: RedisServer, tmp_path: Path
) -> None:
    """Other gateways and workers may use that Redis: the slots stay leases in it, the worker in
    the process notwithstanding."""
    env = served(
        tmp_path / "results",
        GATEWAY_JOBS_REDIS_URL=redis.url,
        GATEWAY_JOBS_WORKER_IN_PROCESS="true",
    )
    store = redis_sync.Redis.from_url(redis.url)
    with ServedGateway(emulator, **env) as gateway:
        emulator.hold()
        try:
            async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
                call = asyncio.create_task(client.post(T2I, json=BODY))
                await asyncio.to_thread(emulator.wait_for, in_flight=1, timeout_s=60)
                leases = store.zcard(PREFIX + TITAN)
                emulator.release()
                answer = await call
        finally:
            emulator.release()
            store.close()
        started = gateway.lines()
    assert leases == 1
    assert answer.status_code == 200
    assert not [line for line in started if "embedded redis-server" in line]
