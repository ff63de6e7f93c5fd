"""Jobs (issue 20): POST /v1/jobs/{task}, GET/DELETE /v1/jobs/{id}, GET /v1/files/{name}, on a
real redis-server and arq workers (in the gateway's process, or `python -m app.worker`)."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
import redis as redis_sync

from app.auth.keygen import hash_key
from app.store import LocalStore, SignedUrls
from emulator.testing import EmulatorServer
from tests.support.gateway import data, image_size, open_gateway, settings_for
from tests.support.jobs import WorkerProcess, jobs_gateway, result_files
from tests.support.redis_server import RedisServer

TITAN = "amazon.titan-image-generator-v1"
BODY = {"prompt": "a red kite", "width": 512, "height": 512, "n": 2, "seed": 7}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_job_makes_the_images_the_synchronous_call_makes(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        submitted = await gateway.post("/v1/jobs/text-to-image", json=BODY)
        assert submitted.status_code == 202
        job = submitted.json()
        assert job["status"] in ("queued", "running", "succeeded")
        assert submitted.headers["location"] == job["status_url"]
        assert job["status_url"] == f"http://gateway/v1/jobs/{job['id']}"
        done = (await gateway.get(f"/v1/jobs/{job['id']}", params={"wait": 30})).json()
        assert done["status"] == "succeeded"
        assert done["model"] == TITAN
        assert done["progress"] == 1.0
        assert done["created_at"] <= done["started_at"] <= done["finished_at"]
        fetched = []
        for image in done["images"]:
            answer = await gateway.get(path_of(image["url"]))
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "image/png"
            fetched.append(answer.content)
        direct = (await gateway.post("/v1/images/text-to-image", json=BODY)).json()
    assert fetched == [base64.b64decode(i["b64_json"]) for i in direct["images"]]
    bodies = [r["body"] for r in emulator.requests()]
    assert bodies[0] == bodies[1]  # the job called Bedrock with what the direct call sent
    assert result_files(results) == [
        f"{done['id']}-0.png",
        f"{done['id']}-1.png",
    ]


async def test_a_multipart_job_takes_its_file_parts(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        files = {"image": ("coffee.png", data("coffee.png"), "image/png")}
        submitted = await gateway.post("/v1/jobs/remove-background", files=files)
        assert submitted.status_code == 202, submitted.text
        done = (await gateway.get(submitted.headers["location"], params={"wait": 30})).json()
    assert done["status"] == "succeeded"
    assert done["images"][0]["finish_reason"] == "success"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("text-to-image", {"prompt": "a kite", "width": 1000, "propmt": "x"}),
        ("text-to-image", {"prompt": "a kite", "model": "titan-v9"}),
        ("inpaint", {"prompt": "a kite"}),
    ],
)
async def test_a_bad_job_gets_the_synchronous_answer_and_is_never_queued(
    emulator: EmulatorServer, redis: RedisServer, results: Path, path: str, body: dict[str, object]
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        direct = await gateway.post(f"/v1/images/{path}", json=body)
        queued = await gateway.post(f"/v1/jobs/{path}", json=body)
    assert queued.status_code == direct.status_code == 422
    assert queued.headers["content-type"] == "application/problem+json"
    expected = {k: v for k, v in direct.json().items() if k not in ("instance", "request_id")}
    assert {k: v for k, v in queued.json().items() if k not in ("instance", "request_id")} == (
        expected
    )
    assert emulator.stats()["total"] == 0
    assert redis_sync.Redis.from_url(redis.url).keys("gateway:job:*") == []


async def test_an_unknown_task_is_404(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        answer = await gateway.post("/v1/jobs/text-to-imag", json={"prompt": "a kite"})
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/unknown-task"
    assert "did you mean 'text-to-image'" in answer.json()["detail"]


async def test_a_job_belongs_to_its_key(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    keys = [{"name": "alice", "hash": hash_key("a-key")}, {"name": "bob", "hash": hash_key("b")}]
    alice = {"Authorization": "Bearer a-key"}
    bob = {"Authorization": "Bearer b"}
    async with jobs_gateway(emulator, redis, results, api_keys=keys) as gateway:
        job = (await gateway.post("/v1/jobs/text-to-image", json=BODY, headers=alice)).json()
        url = f"/v1/jobs/{job['id']}"
        assert (await gateway.get(url, headers=bob)).status_code == 404
        assert (await gateway.delete(url, headers=bob)).status_code == 404
        missing = await gateway.get(url, headers=bob)
        assert missing.json()["type"] == "/problems/job-not-found"
        mine = await gateway.get(url, headers=alice, params={"wait": 30})
    assert mine.json()["status"] == "succeeded"


async def test_cancelling_a_running_job_stops_its_call(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    emulator.hold()
    try:
        async with jobs_gateway(emulator, redis, results) as gateway:
            job = (await gateway.post("/v1/jobs/text-to-image", json=BODY)).json()
            await asyncio.to_thread(emulator.wait_for, in_flight=1)
            cancelled = await gateway.delete(f"/v1/jobs/{job['id']}")
            assert cancelled.status_code == 200
            assert cancelled.json()["status"] == "cancelled"
            await asyncio.to_thread(emulator.wait_for, in_flight=0, disconnected=1, timeout_s=30)
            after = (await gateway.get(f"/v1/jobs/{job['id']}")).json()
    finally:
        emulator.release()
    assert after["status"] == "cancelled"
    assert after["images"] == []


async def test_a_result_url_must_carry_its_own_signature(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        job = (await gateway.post("/v1/jobs/text-to-image", json=BODY)).json()
        done = (await gateway.get(f"/v1/jobs/{job['id']}", params={"wait": 30})).json()
        parts = urlsplit(done["images"][0]["url"])
        query = dict(pair.split("=") for pair in parts.query.split("&"))
        other = f"{job['id']}-1.png"
        cases = {
            "tampered": f"{parts.path}?expires={query['expires']}&signature={'0' * 64}",
            "other file": f"/v1/files/{other}?{parts.query}",
            "extended": f"{parts.path}?expires={int(query['expires']) + 1}"
            f"&signature={query['signature']}",
            "unsigned": parts.path,
        }
        answers = {name: await gateway.get(url) for name, url in cases.items()}
    for name, answer in answers.items():
        assert answer.status_code == 403, name
        assert answer.json()["type"] == "/problems/bad-signature", name


async def test_an_expired_result_url_is_403(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    async with jobs_gateway(emulator, redis, results) as gateway:
        state = gateway._transport.app  # type: ignore[attr-defined]
        assert state is not None
        job = (await gateway.post("/v1/jobs/text-to-image", json=BODY)).json()
        await gateway.get(f"/v1/jobs/{job['id']}", params={"wait": 30})
        # A URL made an hour and more ago with the same secret: expired.
        from app.store import SignedUrls

        old = SignedUrls("s3cret", 3600).path(f"{job['id']}-0.png", now=0)
        answer = await gateway.get(old)
    assert answer.status_code == 403
    assert "expired" in answer.json()["detail"]


async def test_without_a_queue_jobs_are_503(emulator: EmulatorServer) -> None:
    async with open_gateway(settings_for(emulator)) as gateway:
        answer = await gateway.post("/v1/jobs/text-to-image", json=BODY)
    assert answer.status_code == 503
    assert answer.json()["type"] == "/problems/jobs-unavailable"


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


async def test_a_job_whose_worker_dies_is_finished_by_another_once(
    emulator: EmulatorServer,
    redis: RedisServer,
    results: Path,
    workers: list[WorkerProcess],
) -> None:
    options = {"GATEWAY_JOBS_TIMEOUT_S": "5"}
    emulator.hold()
    async with jobs_gateway(emulator, redis, results, jobs_worker_in_process=False) as gateway:
        job = (await gateway.post("/v1/jobs/text-to-image", json=BODY)).json()
        workers.append(WorkerProcess(emulator, redis, results, **options))
        await asyncio.to_thread(emulator.wait_for, in_flight=1, timeout_s=60)
        workers[0].kill()
        await asyncio.to_thread(emulator.wait_for, in_flight=0, disconnected=1, timeout_s=30)
        emulator.release()
        workers.append(WorkerProcess(emulator, redis, results, **options))
        done = (await gateway.get(f"/v1/jobs/{job['id']}", params={"wait": 60})).json()
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    assert result_files(results) == [
        f"{job['id']}-0.png",
        f"{job['id']}-1.png",
    ]
    assert emulator.stats()["total"] == 2  # one call on each worker


async def test_queued_jobs_outlive_a_gateway_restart(
    emulator: EmulatorServer,
    redis: RedisServer,
    results: Path,
    workers: list[WorkerProcess],
) -> None:
    async with jobs_gateway(emulator, redis, results, jobs_worker_in_process=False) as gateway:
        ids = [
            (await gateway.post("/v1/jobs/text-to-image", json={**BODY, "seed": s})).json()["id"]
            for s in range(3)
        ]
    assert emulator.stats()["total"] == 0
    async with jobs_gateway(emulator, redis, results, jobs_worker_in_process=False) as gateway:
        workers.append(WorkerProcess(emulator, redis, results))
        done = [
            (await gateway.get(f"/v1/jobs/{i}", params={"wait": 60})).json()["status"] for i in ids
        ]
    assert done == ["succeeded"] * 3
    logged = [orjson.loads(line) for line in workers[0].log.read_bytes().splitlines()]
    for job_id in ids:
        # The line written before the Bedrock call: the end's line may still be on its way.
        lines = [line["message"] for line in logged if line.get("job_id") == job_id]
        assert lines[0] == f"job {job_id}: attempt 1 of text-to-image"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "GATEWAY_JOBS_REDIS_URL is not set"),
        # An embedded gateway's queue: its cap is in that process, a worker could not share it.
        (
            {
                "GATEWAY_JOBS_REDIS_URL": "redis://127.0.0.1:1/0",
                "GATEWAY_JOBS_WORKER_IN_PROCESS": "true",
                "GATEWAY_JOBS_EMBEDDED": "true",
            },
            "GATEWAY_JOBS_EMBEDDED is the gateway's private queue",
        ),
    ],
)
def test_the_worker_refuses_to_start_without_a_queue_of_its_own(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    import subprocess
    import sys

    from tests.support.files import ROOT

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **settings}
    finished = subprocess.run(
        [sys.executable, "-m", "app.worker"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert finished.returncode == 78
    assert named in finished.stderr


async def test_metrics_count_the_queue_jobs_by_status_and_their_latency(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    async with jobs_gateway(emulator, redis, results, jobs_worker_in_process=False) as gateway:
        ids = [(await gateway.post("/v1/jobs/text-to-image", json=BODY)).json()["id"] for _ in "ab"]
        await gateway.delete(f"/v1/jobs/{ids[0]}")
        text = (await gateway.get("/metrics")).text
    lines = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("gateway_job")
    )
    assert lines["gateway_jobs_queued"] == "2.0"  # no worker has taken either
    assert lines['gateway_jobs_total{status="queued"}'] == "2.0"
    assert lines['gateway_jobs_total{status="cancelled"}'] == "1.0"
    assert 'gateway_jobs_total{status="running"}' not in lines
    assert lines["gateway_job_duration_seconds_count"] == "1.0"
    assert lines['gateway_job_duration_seconds_bucket{le="+Inf"}'] == "1.0"


async def test_readiness_covers_the_queue_and_the_store(
    emulator: EmulatorServer, redis: RedisServer, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_bytes(b"")  # a file where the result directory should be
    async with jobs_gateway(emulator, redis, blocked / "results") as gateway:
        answer = await gateway.get("/readyz")
    assert answer.status_code == 503
    assert "result directory" in answer.json()["detail"]
    async with jobs_gateway(emulator, redis, tmp_path / "results") as gateway:
        assert (await gateway.get("/readyz")).status_code == 200
        redis.freeze()
        try:
            frozen = await gateway.get("/readyz")
        finally:
            redis.thaw()
    assert frozen.status_code == 503
    assert "Redis does not answer" in frozen.json()["detail"]


async def test_openai_url_answers_are_stored_results_when_there_is_a_store(
    emulator: EmulatorServer, redis: RedisServer, results: Path
) -> None:
    body = {"prompt": "a fox", "model": "dall-e-3", "size": "512x512", "response_format": "url"}
    async with jobs_gateway(emulator, redis, results) as gateway:
        answer = (await gateway.post("/openai/v1/images/generations", json=body)).json()
        url = answer["data"][0]["url"]
        assert url.startswith("http://gateway/v1/files/img_")
        fetched = await gateway.get(path_of(url))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert image_size(fetched.content) == (512, 512)
    assert result_files(results) == [urlsplit(url).path.rsplit("/", 1)[1]]


async def test_expired_results_are_swept(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, SignedUrls("s", 60))
    await store.put("old.png", b"old")
    await store.put("new.png", b"new")
    os.utime(tmp_path / "old.png", (1_000_000, 1_000_000))
    assert await store.sweep(older_than_s=3600) == 1
    assert await store.names("") == ["new.png"]
