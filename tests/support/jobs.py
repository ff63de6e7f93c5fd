"""The parts job tests run: the gateway on a real Redis with a result directory, and worker
processes (`python -m app.worker`) whose output goes to a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from emulator.testing import EmulatorServer
from tests.support.files import ROOT
from tests.support.gateway import open_gateway, settings_for
from tests.support.redis_server import RedisServer


def job_settings(redis: RedisServer, results: Path) -> dict[str, Any]:
    """The settings that give a gateway (or worker) its queue and result directory."""
    return {"jobs_redis_url": redis.url, "results_dir": str(results), "results_secret": "s3cret"}


@asynccontextmanager
async def jobs_gateway(
    emulator: EmulatorServer, redis: RedisServer, results: Path, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with jobs; it runs them itself unless jobs_worker_in_process=False."""
    values = {**job_settings(redis, results), "jobs_worker_in_process": True, **overrides}
    async with open_gateway(settings_for(emulator, **values)) as client:
        yield client


def result_files(results: Path) -> list[str]:
    """The images in the result directory (a job's body is there too until the job ends)."""
    return sorted(p.name for p in results.iterdir() if not p.name.endswith(".input.json"))


class WorkerProcess:
    """`python -m app.worker` on the emulator, the Redis and the result directory."""

    def __init__(
        self, emulator: EmulatorServer, redis: RedisServer, results: Path, **env: str
    ) -> None:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))
        }
        environment.update(
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=emulator.url,
            GATEWAY_JOBS_REDIS_URL=redis.url,
            GATEWAY_RESULTS_DIR=str(results),
            GATEWAY_RESULTS_SECRET="s3cret",
            **env,
        )
        self.log = results.parent / f"worker-{id(self)}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.worker"], cwd=ROOT, env=environment, stderr=out
            )

    def kill(self) -> None:
        """SIGKILL: the worker dies where it stands, as a crashed machine would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
