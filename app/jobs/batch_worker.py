"""Running one line of a batch: what a worker does with each `run_batch_line` job.

A line runs as a job does (the same runner, validation and result store), and its outcome is
recorded once (`Batches.record_line`). Throttling and a busy model (429, 503) put the line back in
arq's queue with a growing delay: a batch slows down under throttling, it does not fail, and
arq's retries are counted per line. A batch cancelled while its lines run: each worker hears it
(`CancelWatch`, one subscription per worker) and cancels those lines' calls; they end cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import orjson
from arq import Retry
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..auth.keys import ANONYMOUS
from ..problems import ProblemError
from ..problems.types import FORBIDDEN, JOB_INPUT_GONE
from ..schemas.requests import Task
from .batches import CANCELLED_CHANNEL, BatchStatus, LineStatus, line_input

if TYPE_CHECKING:
    from .worker import JobRunner

log = logging.getLogger("app.jobs")
_RETRYABLE = frozenset({429, 503})


class CancelWatch:
    """Cancels the running lines of a batch when the gateway announces it cancelled."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._running: dict[str, set[asyncio.Task[Any]]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        # Batches heard cancelled: a line registered after the message is cancelled at once.
        self._cancelled: set[str] = set()

    async def start(self) -> None:
        """Subscribe (once); returns when the subscription is in place."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen())
        await self._ready.wait()

    async def stop(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener

    def watch(self, batch_id: str, task: asyncio.Task[Any]) -> None:
        """Cancel `task` if `batch_id` is (or has been heard) cancelled before it ends."""
        if batch_id in self._cancelled:
            task.cancel()
            return
        self._running[batch_id].add(task)

        def forget(done: asyncio.Task[Any]) -> None:
            running = self._running.get(batch_id)
            if running is not None:
                running.discard(done)
                if not running:
                    del self._running[batch_id]

        task.add_done_callback(forget)

    async def _listen(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(CANCELLED_CHANNEL)
            self._ready.set()
            while True:
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                except RedisError:
                    log.warning("batch cancellations: Redis does not answer; listening again")
                    await asyncio.sleep(1.0)
                    continue
                if message is None or message["type"] != "message":
                    continue
                batch_id = message["data"].decode()
                self._cancelled.add(batch_id)
                for task in list(self._running.get(batch_id, ())):
                    task.cancel()
        finally:
            self._ready.set()
            await pubsub.aclose()  # type: ignore[no-untyped-call]


async def run_line(
    runner: JobRunner, watch: CancelWatch, batch_id: str, index: int, attempt: int
) -> None:
    """Run line `index` of `batch_id` unless it has its outcome already."""
    batches = runner.jobs.batches
    store = runner.jobs.store
    name = line_input(batch_id, index)
    # Subscribed before the record is read: a cancellation after this read is heard.
    await watch.start()
    batch, recorded = await batches.line_state(batch_id, index)
    if batch is None or recorded:
        await store.delete(name)
        return
    extra = {"job_id": f"{batch_id}:{index}"}
    stored = await store.get(name)
    if stored is None:
        await _end(runner, batch, index, None, LineStatus.FAILED, error=_lost(batch_id, index))
        return
    line: dict[str, Any] = orjson.loads(stored)
    custom_id = line["custom_id"]
    if batch["status"] != BatchStatus.IN_PROGRESS.value:
        await _end(runner, batch, index, custom_id, LineStatus.CANCELLED)
        return
    key = runner.keys.get(batch["owner"], ANONYMOUS if not runner.keys else None)
    if key is None:
        error = FORBIDDEN.error(
            f"the API key '{batch['owner']}' that made this batch is no longer configured"
        )
        await _end(runner, batch, index, custom_id, LineStatus.FAILED, error=error)
        return
    task = Task(line["task"])
    call = asyncio.create_task(runner.runner.run(task, line["body"], key=key))
    watch.watch(batch_id, call)
    try:
        result = await call
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # the worker is stopping: arq runs the line again later
        await _end(runner, batch, index, custom_id, LineStatus.CANCELLED)
        return
    except ProblemError as problem:
        if problem.status in _RETRYABLE and attempt < runner.settings.jobs_max_tries:
            delay = random.uniform(0, min(60.0, runner.settings.retry_base_s * 2**attempt))
            log.info("batch line: %s; again in %.1f s", problem.slug, delay, extra=extra)
            raise Retry(defer=delay) from problem
        path = f"/v1/images/{task.value}"
        await _end(runner, batch, index, custom_id, LineStatus.FAILED, error=problem, path=path)
        return
    from .worker import store_images

    images = await store_images(store, f"{batch_id}-{index}", result)
    await _end(
        runner,
        batch,
        index,
        custom_id,
        LineStatus.SUCCEEDED,
        images=images,
        model=result.model_id,
    )


async def _end(
    runner: JobRunner,
    batch: dict[str, Any],
    index: int,
    custom_id: str | None,
    status: LineStatus,
    *,
    error: ProblemError | None = None,
    path: str | None = None,
    images: list[dict[str, Any]] | None = None,
    model: str | None = None,
) -> None:
    """Record the line's outcome (once), drop its stored request, and, when it was the batch's
    last line, queue the batch's webhook."""
    batch_id, total = batch["id"], batch["total"]
    outcome = {
        "custom_id": custom_id,
        "status": status.value,
        "model": model,
        "images": images or [],
        "error": error.body(path, f"{batch_id}:{index}") if error is not None else None,
    }
    ended = await runner.jobs.batches.record_line(batch_id, index, outcome, total)
    await runner.jobs.store.delete(line_input(batch_id, index))
    if ended is not None:
        log.info("batch %s: %s", batch_id, ended["status"], extra={"job_id": batch_id})
        await runner.queue_webhook(ended)


def _lost(batch_id: str, index: int) -> ProblemError:
    return JOB_INPUT_GONE.error(
        f"line {index + 1} of {batch_id} was removed from the result store before it ran",
        title="The line's request is no longer stored",
    )
