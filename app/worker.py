"""`python -m app.worker` (and `python -m app worker`, `make worker`): a job worker process.

It runs the jobs queued in GATEWAY_JOBS_REDIS_URL with the same settings, models, keys and
Bedrock client the gateway has; start as many as the work needs, on any machine that reaches that
Redis and the result store. SIGTERM or Ctrl-C stops it; a job it was running goes back to the
queue and another worker (or this one, restarted) runs it.
"""

from __future__ import annotations

import asyncio
import logging.config
import os
import sys
from contextlib import suppress

from .auth.keys import load_keys
from .bedrock.client import open_bedrock
from .families.registry import ModelRegistry
from .jobs.service import open_jobs
from .jobs.worker import JobRunner, close_worker, make_worker
from .observability.logs import log_config
from .quotas import open_quotas
from .reuse import open_reuse
from .settings import Settings
from .spend.budgets import open_spend
from .spend.setup import price_table
from .tasks.runner import TaskRunner
from .tasks.validation import RequestValidator


async def serve(settings: Settings) -> None:
    """Run jobs until stopped."""
    registry = ModelRegistry(overrides=settings.models, families=settings.families)
    keys = {key.name: key for key in load_keys(settings.api_keys, resolve=registry.resolve)}
    async with (
        open_bedrock(settings) as bedrock,
        open_quotas(settings) as quotas,
        # Jobs spend from the keys' budgets as they run, as requests do.
        open_spend(settings, price_table(settings, registry)) as spend,
        open_jobs(settings) as jobs,
        open_reuse(settings) as reuse,
    ):
        assert jobs is not None
        runner = TaskRunner(
            RequestValidator(registry, settings), bedrock, quotas, spend, reuse.cache
        )
        worker = make_worker(JobRunner(jobs, runner, keys, settings), handle_signals=True)
        try:
            # arq's signal handler cancels the task async_run makes: that is how it stops.
            with suppress(asyncio.CancelledError):
                await worker.async_run()
        finally:
            await close_worker(worker)


def main() -> None:
    """Start a worker, or exit 78 naming what is missing."""
    from .serve import load_settings

    settings = load_settings()
    if settings.jobs_redis_url is None:
        print(
            "worker: GATEWAY_JOBS_REDIS_URL is not set: workers need the queue's Redis",
            file=sys.stderr,
        )
        raise SystemExit(os.EX_CONFIG)
    if settings.jobs_embedded:
        # The embedded gateway holds its cap in its own process: a worker beside it would not
        # share it.
        print(
            "worker: GATEWAY_JOBS_EMBEDDED is the gateway's private queue: run workers on a "
            "GATEWAY_JOBS_REDIS_URL of your own without it",
            file=sys.stderr,
        )
        raise SystemExit(os.EX_CONFIG)
    logging.config.dictConfig(log_config(settings.log_level))
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
