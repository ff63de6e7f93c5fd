"""The load generator: one aiohttp session per target, `concurrency` workers posting a prepared
call until `total` answers are in, every latency kept."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import aiohttp
import orjson

from .scenarios import Call, Scenario


class BadAnswer(Exception):
    """An answer that is not what the call asks for: the benchmark stops rather than time it."""


@dataclass(frozen=True)
class Run:
    """One side of one round: every request's latency (s), and how long the round took."""

    latencies: list[float]
    elapsed: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


class Target:
    """A server the load generator posts to, with its own connection pool."""

    def __init__(self, base_url: str, pool: int = 128) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(
            # Idle connections are dropped before uvicorn's 5 s keep-alive ends them: a request
            # sent on one the server is closing fails before it is timed.
            connector=aiohttp.TCPConnector(limit=pool, keepalive_timeout=3),
            timeout=aiohttp.ClientTimeout(total=300),
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        await self.session.close()

    async def post(self, call: Call) -> tuple[int, bytes, str]:
        async with self.session.post(
            self.base_url + call.path, data=call.body, headers=call.headers
        ) as response:
            return response.status, await response.read(), response.content_type

    async def run(self, call: Call, concurrency: int, total: int) -> Run:
        """`total` posts of `call`, `concurrency` at a time; raises BadAnswer on any non-200."""
        latencies: list[float] = []
        left = total

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                started = time.perf_counter()
                status, body, _ = await self.post(call)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise BadAnswer(f"{call.path} answered {status}: {body[:300]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return Run(latencies, time.perf_counter() - started)


async def check(target: Target, call: Call, scenario: Scenario, direct: bool) -> None:
    """One answer read in full: the right number of images, of the right type."""
    status, body, content_type = await target.post(call)
    if status != 200:
        raise BadAnswer(f"{scenario.name}: {call.path} answered {status}: {body[:300]!r}")
    if scenario.binary and not direct:
        if content_type != "image/png" or not body.startswith(b"\x89PNG"):
            raise BadAnswer(f"{scenario.name}: expected PNG bytes, got {content_type}")
        return
    answer = orjson.loads(body)
    if direct:
        count = len(answer.get("images") or answer.get("artifacts") or [])
        want = scenario.images if "titan" in call.path else 1
    else:
        count = sum(1 for image in answer["images"] if image["b64_json"])
        want = scenario.images
    if count != want:
        raise BadAnswer(f"{scenario.name}: {count} images in the answer, {want} expected")
