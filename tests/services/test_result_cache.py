"""The result cache (GATEWAY_CACHE): a reproducible request made again is one Bedrock call, as
Cache-Control allows, per key unless shared, across replicas, bounded by size and age, and
reported in Cache-Status."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.auth.keygen import hash_key
from emulator.testing import EmulatorServer
from tests.support.clock import FakeClock
from tests.support.gateway import data, open_app, settings_for
from tests.support.jobs import WorkerProcess, jobs_gateway
from tests.support.redis_server import RedisServer

SEEDED = {"prompt": "a red kite", "width": 512, "height": 512, "seed": 42}
KEYS = [{"name": "a", "hash": hash_key("key-a")}, {"name": "b", "hash": hash_key("key-b")}]
T2I = "/v1/images/text-to-image"


@asynccontextmanager
async def cached_gateway(
    emulator: EmulatorServer, results: Path, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """The gateway with the cache on, and the lifespan state its requests see."""
    values = {"cache": True, "results_dir": str(results), **overrides}
    async with open_app(settings_for(emulator, **values)) as opened:
        yield opened


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


def calls(emulator: EmulatorServer) -> int:
    total: int = emulator.stats()["total"]
    return total


def status(answer: httpx.Response) -> str:
    assert answer.status_code == 200, answer.text
    return answer.headers["cache-status"]


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_seeded_request_made_twice_is_one_bedrock_call(
    emulator: EmulatorServer, redis: RedisServer, results: Path, backend: str
) -> None:
    extra = {"quota_backend": backend, "redis_url": redis.url}
    async with cached_gateway(emulator, results, **extra) as (gateway, _):
        first = await gateway.post(T2I, json=SEEDED)
        again = await gateway.post(T2I, json=SEEDED)
    assert status(first) == "bedrock-gateway; fwd=uri-miss; stored"
    assert status(again).startswith("bedrock-gateway; hit; ttl=")
    assert again.json()["images"] == first.json()["images"]
    assert calls(emulator) == 1


async def test_no_cache_answers_fresh_and_stores_no_store_does_neither(
    emulator: EmulatorServer, results: Path
) -> None:
    async with cached_gateway(emulator, results) as (gateway, _):
        fresh = await gateway.post(T2I, json=SEEDED, headers={"Cache-Control": "no-cache"})
        hit = await gateway.post(T2I, json=SEEDED)
        again = await gateway.post(T2I, json=SEEDED, headers={"Cache-Control": "no-cache"})
        other = {**SEEDED, "seed": 43}
        unstored = await gateway.post(T2I, json=other, headers={"Cache-Control": "no-store"})
        still_missing = await gateway.post(T2I, json=other)
    assert status(fresh) == "bedrock-gateway; fwd=request; stored"
    assert status(hit).startswith("bedrock-gateway; hit")
    assert status(again) == "bedrock-gateway; fwd=request; stored"
    assert status(unstored) == "bedrock-gateway; fwd=request"
    assert status(still_missing) == "bedrock-gateway; fwd=uri-miss; stored"
    # fresh, again, unstored, still_missing: the hit alone made no call.
    assert calls(emulator) == 4


async def test_a_request_without_a_seed_is_not_cached(
    emulator: EmulatorServer, results: Path
) -> None:
    unseeded = {k: v for k, v in SEEDED.items() if k != "seed"}
    async with cached_gateway(emulator, results) as (gateway, _):
        answers = [await gateway.post(T2I, json=unseeded) for _ in range(2)]
    assert [status(a) for a in answers] == ["bedrock-gateway; fwd=bypass"] * 2
    assert calls(emulator) == 2


async def test_a_deterministic_tool_is_cached_without_a_seed(
    emulator: EmulatorServer, results: Path
) -> None:
    files = {"image": ("coffee.png", data("coffee.png"), "image/png")}
    async with cached_gateway(emulator, results) as (gateway, _):
        answers = [
            await gateway.post("/v1/images/upscale", files=files, data={"model": "fast-upscale"})
            for _ in range(2)
        ]
    assert status(answers[0]) == "bedrock-gateway; fwd=uri-miss; stored"
    assert status(answers[1]).startswith("bedrock-gateway; hit")
    assert answers[1].json()["images"] == answers[0].json()["images"]
    assert calls(emulator) == 1


@pytest.mark.parametrize(("shared", "expected_calls"), [(False, 2), (True, 1)])
async def test_keys_see_each_others_entries_only_when_shared(
    emulator: EmulatorServer, results: Path, shared: bool, expected_calls: int
) -> None:
    async with cached_gateway(emulator, results, api_keys=KEYS, cache_shared=shared) as (
        gateway,
        _,
    ):
        answers = [
            await gateway.post(T2I, json=SEEDED, headers={"X-API-Key": key})
            for key in ("key-a", "key-b")
        ]
    assert status(answers[1]).startswith(
        "bedrock-gateway; hit" if shared else "bedrock-gateway; fwd=uri-miss"
    )
    assert calls(emulator) == expected_calls


async def test_replicas_share_the_cache_through_redis_and_the_store(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    extra = {"quota_backend": "redis", "redis_url": redis.url}
    async with (
        cached_gateway(emulator, results, **extra) as (one, _),
        cached_gateway(emulator, results, **extra) as (two, _),
    ):
        first = await one.post(T2I, json=SEEDED)
        second = await two.post(T2I, json=SEEDED)
    assert status(second).startswith("bedrock-gateway; hit")
    assert second.json()["images"] == first.json()["images"]
    assert calls(emulator) == 1


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_an_entry_older_than_the_age_bound_is_stale(
    emulator: EmulatorServer, redis: RedisServer, results: Path, backend: str
) -> None:
    clock = FakeClock(1_800_000_000.0)
    extra = {"quota_backend": backend, "redis_url": redis.url, "cache_max_age_s": 600}
    async with cached_gateway(emulator, results, **extra) as (gateway, state):
        state["runner"].cache.clock = clock
        await gateway.post(T2I, json=SEEDED)
        clock.now += 599
        kept = await gateway.post(T2I, json=SEEDED)
        clock.now += 2
        stale = await gateway.post(T2I, json=SEEDED)
        renewed = await gateway.post(T2I, json=SEEDED)
    assert status(kept) == "bedrock-gateway; hit; ttl=1"
    assert status(stale) == "bedrock-gateway; fwd=stale; stored"
    assert status(renewed) == "bedrock-gateway; hit; ttl=600"
    assert calls(emulator) == 2


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_past_the_size_bound_the_least_recently_used_entry_goes(
    emulator: EmulatorServer, redis: RedisServer, results: Path, backend: str
) -> None:
    # Room for two entries, not three.
    extra = {"quota_backend": backend, "redis_url": redis.url}
    async with cached_gateway(emulator, results, **extra) as (gateway, state):
        cache = state["runner"].cache
        first = await gateway.post(T2I, json=SEEDED)
        # An entry is about the size of the native answer: its images' base64 dominates both.
        entry_bytes = len(first.content)
        cache.max_bytes = 2 * entry_bytes + entry_bytes // 2
        await gateway.post(T2I, json={**SEEDED, "seed": 2})
        await gateway.post(T2I, json=SEEDED)  # used: seed 2 is now the least recent
        await gateway.post(T2I, json={**SEEDED, "seed": 3})
        answers = {
            seed: await gateway.post(T2I, json={**SEEDED, "seed": seed}) for seed in (42, 3, 2)
        }
    assert status(answers[42]).startswith("bedrock-gateway; hit")
    assert status(answers[3]).startswith("bedrock-gateway; hit")
    assert status(answers[2]).startswith("bedrock-gateway; fwd=uri-miss")
    # 42, 2, 3, and 2 again after its eviction.
    assert calls(emulator) == 4
    # Storing 2 again evicted 42 (the least recently used then); evicted entries' files go.
    assert len(list((results / "cache").iterdir())) == 2


async def test_a_worker_process_answers_a_job_from_what_the_gateway_cached(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    shared = {"quota_backend": "redis", "redis_url": redis.url}
    worker = WorkerProcess(
        emulator,
        redis,
        results,
        GATEWAY_CACHE="true",
        GATEWAY_QUOTA_BACKEND="redis",
        GATEWAY_REDIS_URL=redis.url,
    )
    try:
        async with jobs_gateway(
            emulator, redis, results, jobs_worker_in_process=False, cache=True, **shared
        ) as gateway:
            direct = await gateway.post(T2I, json=SEEDED)
            job = (await gateway.post("/v1/jobs/text-to-image", json=SEEDED)).json()
            done = (await gateway.get(f"/v1/jobs/{job['id']}", params={"wait": 60})).json()
            image = await gateway.get(path_of(done["images"][0]["url"]))
    finally:
        worker.stop()
    assert status(direct) == "bedrock-gateway; fwd=uri-miss; stored"
    assert done["status"] == "succeeded", done
    assert image.content == base64.b64decode(direct.json()["images"][0]["b64_json"])
    assert calls(emulator) == 1


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_replay_of_an_idempotent_request_carries_no_cache_status(
    emulator: EmulatorServer, results: Path
) -> None:
    key = {"Idempotency-Key": '"cover-1"'}
    async with cached_gateway(emulator, results) as (gateway, _):
        first = await gateway.post(T2I, json=SEEDED, headers=key)
        replay = await gateway.post(T2I, json=SEEDED, headers=key)
    assert status(first) == "bedrock-gateway; fwd=uri-miss; stored"
    assert replay.headers["idempotent-replayed"] == "true"
    assert "cache-status" not in replay.headers
    assert calls(emulator) == 1


async def test_a_hit_costs_nothing_and_spends_nothing_of_the_budget(
    emulator: EmulatorServer, results: Path
) -> None:
    async with cached_gateway(emulator, results) as (gateway, _):
        first = await gateway.post(T2I, json=SEEDED)
        hit = await gateway.post(T2I, json=SEEDED)
        spent = await gateway.get("/v1/usage")
    assert status(hit).startswith("bedrock-gateway; hit")
    paid = float(first.headers["cost-usd"])
    assert paid > 0
    assert first.json()["usage"] == {"images": 1, "cost_usd": paid}
    assert float(hit.headers["cost-usd"]) == 0
    assert hit.json()["usage"] == {"images": 0, "cost_usd": 0}
    assert spent.status_code == 200, spent.text
    # The key's usage holds the first answer alone: the hit charged no image and no dollar.
    assert (spent.json()["cost_usd"], spent.json()["images"]) == (pytest.approx(paid), 1)
    assert calls(emulator) == 1
