"""The jobs phase: a batch through two worker processes against the same calls made directly.

For each batch size, fresh processes: the upstream, a redis-server, the gateway (`python -m app`
with GATEWAY_JOBS_REDIS_URL, so no worker of its own) and two `python -m app.worker`, results in a
temporary directory (on /dev/shm when there is one). First the calls straight to the upstream,
`CAP` at a time (the per-model cap the batch runs at); then the same calls as one JSONL batch,
timed from the start of its upload until its status says completed; its result file is read and
checked (one succeeded line per custom_id). Peak RSS (VmHWM since start) of the gateway and of
each worker is read once the batch has ended: measured at two sizes, it shows whether memory
grows with the batch.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from . import procs
from .load import BadAnswer, Target
from .scenarios import Scenario, text_to_image

# The per-model cap (GATEWAY_MAX_CONCURRENCY_PER_MODEL's default): both sides run at it.
CAP = 16
WORKERS = 2
# Lines each worker runs at once (GATEWAY_JOBS_PER_WORKER, 16 by default): those beyond the cap
# wait for a slot, cheaply, so that one is ready the moment another line's call ends. At 16 a
# worker's lines are busy storing images and recording outcomes while slots stand free (0.73x
# against 0.83x at 64, 5,000 lines, in back-to-back trial runs).
LINES_PER_WORKER = 64


def batch_body(scenario: Scenario, size: int) -> bytes:
    """`size` lines, each the scenario's gateway request."""
    body = orjson.loads(scenario.gateway.body)
    return b"".join(
        orjson.dumps({"custom_id": f"r{i}", "task": "text-to-image", "body": body}) + b"\n"
        for i in range(size)
    )


@contextmanager
def jobs_processes(upstream_port: int, per_worker: int) -> Iterator[tuple[str, list[int]]]:
    """redis-server, the gateway and the workers on a fresh result directory: the gateway's URL
    and the pids of the gateway and the workers."""
    # In memory when the machine has a tmpfs: 5,000 512² PNGs are 3 GB, and on this VM's shared
    # disk the phase would measure its writeback rather than the gateway.
    shm = Path("/dev/shm")
    results = tempfile.mkdtemp(prefix="bench-results-", dir=shm if shm.is_dir() else None)
    redis_port, gateway_port = procs.free_port(), procs.free_port()
    env = {
        "GATEWAY_JOBS_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "GATEWAY_RESULTS_DIR": results,
        "GATEWAY_RESULTS_SECRET": "bench",
        "GATEWAY_JOBS_PER_WORKER": str(per_worker),
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{upstream_port}",
    }
    try:
        with ExitStack() as stack:
            redis = stack.enter_context(procs.redis_server(redis_port))
            procs.wait_for_port(redis_port, redis)
            gateway_env = {**procs.gateway_env(gateway_port, upstream_port), **env}
            gateway = stack.enter_context(procs.running(["-m", "app"], gateway_env, "gateway"))
            procs.wait_for_port(gateway_port, gateway)
            workers = [
                stack.enter_context(procs.running(["-m", "app.worker"], env, "worker"))
                for _ in range(WORKERS)
            ]
            yield f"http://127.0.0.1:{gateway_port}", [gateway.pid, *(w.pid for w in workers)]
    finally:
        shutil.rmtree(results, ignore_errors=True)


async def run_batch(gateway_url: str, body: bytes, size: int) -> dict[str, float]:
    """Submit the batch, wait for its end, check its result file; the times taken."""
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        async with session.post(
            f"{gateway_url}/v1/batches", data=body, headers={"Content-Type": "application/jsonl"}
        ) as answer:
            batch = await answer.json(content_type=None)
            if answer.status != 202:
                raise BadAnswer(f"POST /v1/batches answered {answer.status}: {batch}")
        accepted = time.perf_counter() - started
        while batch["status"] != "completed":
            async with session.get(batch["status_url"], params={"wait": "60"}) as answer:
                batch = await answer.json()
        elapsed = time.perf_counter() - started
        async with session.get(batch["result_url"]) as answer:
            rows = [orjson.loads(row) for row in (await answer.read()).splitlines()]
    ids = sorted(row["custom_id"] for row in rows)
    if ids != sorted(f"r{i}" for i in range(size)) or any(r["status"] != "succeeded" for r in rows):
        raise BadAnswer(f"the result file does not hold one succeeded line per request: {batch}")
    return {"accepted_s": accepted, "elapsed_s": elapsed}


async def jobs_phase(
    sizes: list[int], latency_ms: float, per_worker: int = LINES_PER_WORKER
) -> dict[str, Any]:
    """Each size's batch against the same calls made directly."""
    scenario = text_to_image(512, 1)
    runs = []
    for size in sizes:
        upstream_port = procs.free_port()
        with procs.upstream(upstream_port, latency_ms) as up:
            procs.wait_for_port(upstream_port, up)
            direct = Target(f"http://127.0.0.1:{upstream_port}")
            try:
                await direct.run(scenario.direct, CAP, 64)
                made = await direct.run(scenario.direct, CAP, size)
            finally:
                await direct.close()
            with jobs_processes(upstream_port, per_worker) as (gateway_url, pids):
                await run_batch(gateway_url, batch_body(scenario, 32), 32)  # warm-up
                timed = await run_batch(gateway_url, batch_body(scenario, size), size)
                peaks = [procs.memory_kib(pid)["VmHWM"] / 1024 for pid in pids]
        batch_rps = size / timed["elapsed_s"]
        run: dict[str, Any] = {
            "lines": size,
            "direct_rps": made.throughput,
            "batch_rps": batch_rps,
            "ratio": batch_rps / made.throughput,
            "accepted_s": timed["accepted_s"],
            "elapsed_s": timed["elapsed_s"],
            "gateway_peak_rss_mib": peaks[0],
            "worker_peak_rss_mib": peaks[1:],
        }
        print(
            f"jobs: {size} lines: batch {run['batch_rps']:.1f} req/s (accepted in "
            f"{run['accepted_s']:.1f} s), direct {run['direct_rps']:.1f} req/s, "
            f"{run['ratio']:.2f}x; peak RSS gateway {peaks[0]:.0f} MiB, workers "
            + ", ".join(f"{p:.0f}" for p in peaks[1:])
            + " MiB",
            flush=True,
        )
        runs.append(run)
    return {
        "label": scenario.label,
        "upstream_latency_ms": latency_ms,
        "concurrency": CAP,
        "workers": WORKERS,
        "lines_per_worker": per_worker,
        "runs": runs,
    }
