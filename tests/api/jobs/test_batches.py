"""Batches (issue 20): POST /v1/batches (JSONL), GET/DELETE /v1/batches/{id}, the result file, on
a real redis-server, arq workers and the emulator."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import redis as redis_sync
from standardwebhooks.webhooks import Webhook

from app.auth.keygen import hash_key
from app.problems import ProblemError
from emulator.testing import EmulatorServer
from tests.support.gateway import data, image_size
from tests.support.jobs import WorkerProcess, jobs_gateway
from tests.support.redis_server import RedisServer
from tests.support.webhook_receiver import Receiver

TITAN = "amazon.titan-image-generator-v1"
JSONL = {"Content-Type": "application/jsonl"}
SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes....").decode()


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def line(custom_id: str, **body: Any) -> dict[str, Any]:
    fields = {"prompt": f"a kite, {custom_id}", "width": 512, "height": 512, "seed": 1, **body}
    return {"custom_id": custom_id, "task": "text-to-image", "body": fields}


def jsonl(lines: list[Any]) -> bytes:
    return b"".join(
        (item if isinstance(item, bytes) else orjson.dumps(item)) + b"\n" for item in lines
    )


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def result_lines(gateway: httpx.AsyncClient, batch: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await gateway.get(path_of(batch["result_url"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/jsonl"
    return [orjson.loads(row) for row in answer.content.splitlines()]


def stored_files(results: Path) -> list[str]:
    return sorted(p.name for p in results.iterdir()) if results.exists() else []


def stored_keys(redis: RedisServer, pattern: str) -> list[bytes]:
    return list(redis_sync.Redis.from_url(redis.url).scan_iter(pattern))


async def test_a_batch_runs_every_line_and_reports_each_once(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    lines = [line(f"kite-{i}", seed=i) for i in range(5)]
    lines[3] = {"custom_id": "kite-3", "url": "/v1/images/text-to-image", "body": lines[3]["body"]}
    async with jobs_gateway(emulator, redis, results) as gateway:
        submitted = await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)
        assert submitted.status_code == 202, submitted.text
        batch = submitted.json()
        assert submitted.headers["location"] == batch["status_url"]
        assert batch["counts"]["total"] == 5
        done = (await gateway.get(batch["status_url"], params={"wait": 30})).json()
        assert done["status"] == "completed"
        assert done["counts"] == {
            "total": 5,
            "pending": 0,
            "succeeded": 5,
            "failed": 0,
            "cancelled": 0,
        }
        rows = await result_lines(gateway, done)
        signed = urlsplit(done["result_url"])
        tampered = await gateway.get(f"{signed.path}?{signed.query[:-4]}0000")
        image = await gateway.get(path_of(rows[0]["images"][0]["url"]))
        direct = await gateway.post(
            "/v1/images/text-to-image", json=lines[int(rows[0]["custom_id"][-1])]["body"]
        )
    assert sorted(row["custom_id"] for row in rows) == [f"kite-{i}" for i in range(5)]
    assert {row["status"] for row in rows} == {"succeeded"}
    assert tampered.status_code == 403
    assert tampered.json()["type"] == "/problems/bad-signature"
    assert {row["model"] for row in rows} == {TITAN}
    assert image.content == base64.b64decode(direct.json()["images"][0]["b64_json"])
    # Every stored request is gone once its line ended.
    assert not [name for name in stored_files(results) if name.endswith(".input.json")]


async def test_a_batch_line_carries_its_image_as_base64_as_a_json_body_does(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    image = base64.b64encode(data("coffee.png")).decode()
    lines = [
        {"custom_id": "cut-out", "task": "remove-background", "body": {"image": image}},
        {"custom_id": "bad", "task": "remove-background", "body": {"image": image[:-200]}},
    ]
    async with jobs_gateway(emulator, redis, results) as gateway:
        refused = await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)
        batch = (await gateway.post("/v1/batches", content=jsonl(lines[:1]), headers=JSONL)).json()
        done = (await gateway.get(batch["status_url"], params={"wait": 30})).json()
        [row] = await result_lines(gateway, done)
        cut = await gateway.get(path_of(row["images"][0]["url"]))
    assert refused.status_code == 422
    [reported] = refused.json()["lines"]
    assert (reported["line"], reported["custom_id"]) == (2, "bad")
    assert reported["errors"][0]["field"] == "image"
    assert row["status"] == "succeeded"
    assert image_size(cut.content) == image_size(data("coffee.png"))


@pytest.mark.parametrize(
    ("bad", "field", "type_"),
    [
        (
            b'{"custom_id": "x", "task": "text-to-image", "body": {"prompt": "a"',
            None,
            "invalid-json",
        ),
        (orjson.dumps({**line("x"), "task": "text-to-imag"}), "task", "unknown-task"),
        (orjson.dumps(line("x", width=1000)), "width", "validation-error"),
        (orjson.dumps({"custom_id": "x", "body": {}}), "task", "validation-error"),
        (orjson.dumps(line("kite-0")), "custom_id", "validation-error"),
        (orjson.dumps({**line("x"), "extra": 1}), "extra", "validation-error"),
    ],
)
async def test_a_batch_with_a_bad_line_is_refused_whole_naming_it(
    emulator: EmulatorServer,
    redis: RedisServer,
    results: Path,
    bad: bytes,
    field: str | None,
    type_: str,
) -> None:
    lines: list[Any] = [line(f"kite-{i}") for i in range(3)]
    lines.insert(2, bad)
    async with jobs_gateway(emulator, redis, results) as gateway:
        answer = await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/invalid-batch"
    assert problem["bad_line_count"] == 1
    assert "1 of 4 lines are not valid" in problem["detail"]
    [reported] = problem["lines"]
    assert reported["line"] == 3
    assert reported["type"] == f"/problems/{type_}"
    if field is not None:
        assert reported["errors"][0]["field"] == field
    assert (
        reported["custom_id"] == orjson.loads(bad)["custom_id"]
        if type_ != "invalid-json"
        else (reported["custom_id"] is None)
    )
    assert emulator.stats()["total"] == 0
    assert stored_keys(redis, "gateway:batch:*") == []
    assert stored_keys(redis, "arq:job:batch_*") == []
    assert stored_files(results) == []


async def test_a_batch_over_the_limits_is_413(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    lines = [line(f"kite-{i}") for i in range(4)]
    async with jobs_gateway(emulator, redis, results, batch_max_lines=3) as gateway:
        too_many = await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)

    async def chunks() -> AsyncIterator[bytes]:
        for item in lines:
            yield orjson.dumps(item) + b"\n"

    async with jobs_gateway(emulator, redis, results, max_body_bytes=200) as gateway:
        too_big = await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)
        # Sent chunked, with no length: refused once past the cap, its lines so far dropped.
        streamed = await gateway.post("/v1/batches", content=chunks(), headers=JSONL)
    assert too_many.status_code == 413
    assert too_many.json()["type"] == "/problems/batch-too-large"
    assert "at most 3 requests; line 4" in too_many.json()["detail"]
    assert too_big.status_code == 413
    assert too_big.json()["type"] == "/problems/payload-too-large"
    assert streamed.status_code == 413
    assert streamed.json()["type"] == "/problems/payload-too-large"
    assert stored_keys(redis, "gateway:batch:*") == []
    assert stored_files(results) == []


@pytest.mark.parametrize(
    ("content", "headers", "status", "type_"),
    [
        (b"", JSONL, 422, "validation-error"),
        (b"\n\n", JSONL, 422, "validation-error"),
        (jsonl([line("a")]), {"Content-Type": "application/json"}, 415, "unsupported-media-type"),
    ],
)
async def test_an_empty_batch_or_one_of_another_type_is_refused(
    emulator: EmulatorServer,
    redis: RedisServer,
    results: Path,
    content: bytes,
    headers: dict[str, str],
    status: int,
    type_: str,
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        answer = await gateway.post("/v1/batches", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.json()["type"] == f"/problems/{type_}"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://x.invalid/h"]
)
async def test_a_batch_webhook_the_gateway_must_not_call_is_422(
    emulator: EmulatorServer, redis: RedisServer, results: Path, url: str
) -> None:
    async with jobs_gateway(emulator, redis, results, webhook_secret=SECRET) as gateway:
        answer = await gateway.post(
            "/v1/batches", content=jsonl([line("a")]), headers=JSONL, params={"webhook_url": url}
        )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "webhook_url"
    assert stored_keys(redis, "gateway:batch:*") == []


async def test_a_batch_belongs_to_its_key_and_its_end_is_posted_signed(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    keys = [{"name": "alice", "hash": hash_key("a-key")}, {"name": "bob", "hash": hash_key("b")}]
    alice = {"Authorization": "Bearer a-key", **JSONL}
    bob = {"Authorization": "Bearer b"}
    options = {"api_keys": keys, "webhook_secret": SECRET, "webhook_allow": ["127.0.0.0/8"]}
    with Receiver() as receiver:
        async with jobs_gateway(emulator, redis, results, **options) as gateway:
            batch = (
                await gateway.post(
                    "/v1/batches",
                    content=jsonl([line("a"), line("b")]),
                    headers=alice,
                    params={"webhook_url": receiver.url},
                )
            ).json()
            url = f"/v1/batches/{batch['id']}"
            assert (await gateway.get(url, headers=bob)).status_code == 404
            assert (await gateway.delete(url, headers=bob)).json()["type"] == (
                "/problems/batch-not-found"
            )
            [(headers, body)] = await asyncio.to_thread(receiver.wait_for, 1)
            mine = (await gateway.get(url, headers=alice)).json()
    payload = Webhook(SECRET).verify(body, headers)
    assert headers["webhook-id"] == f"{batch['id']}.completed"
    assert payload["type"] == "batch.completed"
    assert payload["data"]["counts"]["succeeded"] == 2
    assert mine["status"] == "completed"


async def test_cancelling_a_running_batch_stops_its_calls_and_reports_every_line(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    lines = [line(f"kite-{i}") for i in range(20)]
    emulator.hold()
    try:
        async with jobs_gateway(emulator, redis, results, max_concurrency_per_model=2) as gateway:
            batch = (await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)).json()
            await asyncio.to_thread(emulator.wait_for, in_flight=2, timeout_s=30)
            cancelled = await gateway.delete(f"/v1/batches/{batch['id']}")
            assert cancelled.status_code == 200
            await asyncio.to_thread(emulator.wait_for, in_flight=0, disconnected=2, timeout_s=30)
            emulator.release()
            done = (await gateway.get(batch["status_url"], params={"wait": 30})).json()
            rows = await result_lines(gateway, done)
            # The cancelled lines still in arq's queue are ahead of a second batch's: once that
            # one has run, they have been taken, found ended, and made no call.
            after = await gateway.post("/v1/batches", content=jsonl(lines[:2]), headers=JSONL)
            second = (await gateway.get(after.json()["status_url"], params={"wait": 30})).json()
    finally:
        emulator.release()
    assert done["status"] == "cancelled"
    assert done["counts"]["cancelled"] == 20
    assert sorted(row["custom_id"] for row in rows) == sorted(f"kite-{i}" for i in range(20))
    assert {row["status"] for row in rows} == {"cancelled"}
    assert second["counts"]["succeeded"] == 2
    assert emulator.stats()["total"] == 2 + 2


CAP = 4
# Workers with the operator's cap, retrying throttled calls after short pauses.
WORKER_ENV = {"GATEWAY_MAX_CONCURRENCY_PER_MODEL": str(CAP), "GATEWAY_RETRY_BASE_S": "0.01"}


async def test_a_thousand_lines_through_two_workers_under_throttling_keep_the_cap(
    emulator: EmulatorServer,
    redis: RedisServer,
    results: Path,
    workers: list[WorkerProcess],
) -> None:
    emulator.set_faults(latency_ms={"*": 5}, rates={"ThrottlingException": 0.3}, seed=20)
    lines = [line(f"line-{i}", seed=i % 7) for i in range(1000)]
    options = {"jobs_worker_in_process": False, "max_concurrency_per_model": CAP}
    async with jobs_gateway(emulator, redis, results, **options) as gateway:
        batch = (await gateway.post("/v1/batches", content=jsonl(lines), headers=JSONL)).json()
        assert batch["counts"]["pending"] == 1000
        workers.append(WorkerProcess(emulator, redis, results, **WORKER_ENV))
        workers.append(WorkerProcess(emulator, redis, results, **WORKER_ENV))
        done = batch
        for _ in range(5):  # up to five minutes on a busy machine
            done = (await gateway.get(batch["status_url"], params={"wait": 60})).json()
            if done["status"] == "completed":
                break
        rows = await result_lines(gateway, done)
    stats = emulator.stats()
    throttled = [r for r in emulator.requests() if r.get("error_code") == "ThrottlingException"]
    assert done["counts"] == {
        "total": 1000,
        "pending": 0,
        "succeeded": 1000,
        "failed": 0,
        "cancelled": 0,
    }
    assert sorted(row["custom_id"] for row in rows) == sorted(f"line-{i}" for i in range(1000))
    assert {row["status"] for row in rows} == {"succeeded"}
    assert stats["max_in_flight"] == CAP  # both workers' calls together, never more
    assert throttled  # throttling slowed the batch down: every line still succeeded
    assert stats["total"] >= 1000 + len(throttled)
    images = [name for name in stored_files(results) if name.endswith(".png")]
    assert len(images) == 1000


async def test_the_synchronous_path_shares_the_workers_cap(
    emulator: EmulatorServer,
    redis: RedisServer,
    results: Path,
    workers: list[WorkerProcess],
) -> None:
    options = {
        "jobs_worker_in_process": False,
        "max_concurrency_per_model": 1,
        "queue_timeout_s": 0.5,
    }
    emulator.hold()
    try:
        async with jobs_gateway(emulator, redis, results, **options) as gateway:
            await gateway.post("/v1/batches", content=jsonl([line("a")]), headers=JSONL)
            env = {"GATEWAY_MAX_CONCURRENCY_PER_MODEL": "1"}
            workers.append(WorkerProcess(emulator, redis, results, **env))
            await asyncio.to_thread(emulator.wait_for, in_flight=1, timeout_s=60)
            direct = await gateway.post("/v1/images/text-to-image", json=line("b")["body"])
            in_flight = emulator.stats()["in_flight"]
    finally:
        emulator.release()
    assert direct.status_code == 503
    assert direct.json()["type"] == "/problems/queue-timeout"
    assert "shared call slots" in direct.json()["detail"]
    assert in_flight == 1


async def test_a_crashed_holders_lease_expires(redis: RedisServer) -> None:
    from redis.asyncio import Redis

    from app.bedrock.leases import PREFIX, RedisGate

    client = Redis.from_url(redis.url)
    try:
        # Two leases held by processes that died: one expired a second ago, one still current.
        now_ms = int((await client.time())[0]) * 1000
        await client.zadd(PREFIX + "m", {"dead": now_ms - 1000, "alive": now_ms + 60_000})
        gate = RedisGate(client, "m", limit=2, queue_limit=4)
        async with gate.slot(wait_s=0):
            held = sorted(await client.zrange(PREFIX + "m", 0, -1))
        with pytest.raises(ProblemError) as refused:
            async with RedisGate(client, "m", limit=1, queue_limit=4).slot(wait_s=0):
                pass
        after = await client.zrange(PREFIX + "m", 0, -1)
    finally:
        await client.aclose()
    assert len(held) == 2
    assert b"dead" not in held
    assert b"alive" in held
    assert refused.value.slug == "queue-timeout"
    assert after == [b"alive"]
