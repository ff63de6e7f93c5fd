"""Counts of jobs every process shares, kept in the queue's Redis: the gateway's /metrics reads
them, whichever worker process ran the jobs.

`gateway:jobs:statuses` counts the jobs that entered each status; `gateway:jobs:latency` is a
histogram (cumulative bucket counts, sum, count) of the seconds from submission to the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

STATUSES_KEY = "gateway:jobs:statuses"
LATENCY_KEY = "gateway:jobs:latency"
WEBHOOKS_KEY = "gateway:webhooks"
# Jobs wait for workers and throttling: minutes are ordinary.
BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def count_status(pipe: Pipeline, status: str) -> None:
    """Count a job entering `status`, in the transaction that makes the change."""
    pipe.hincrby(STATUSES_KEY, status, 1)


def observe_latency(pipe: Pipeline, seconds: float) -> None:
    """Count a job that ended `seconds` after it was submitted."""
    for bound in BUCKETS:
        if seconds <= bound:
            pipe.hincrby(LATENCY_KEY, f"le:{bound}", 1)
    pipe.hincrbyfloat(LATENCY_KEY, "sum", seconds)
    pipe.hincrby(LATENCY_KEY, "count", 1)


@dataclass
class JobsSnapshot:
    """The shared counts as one scrape reads them."""

    queued: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latency_buckets: list[tuple[float, int]] = field(default_factory=list)
    latency_sum: float = 0.0
    latency_count: int = 0
    webhooks: dict[str, int] = field(default_factory=dict)


async def snapshot(redis: Redis, queue: str) -> JobsSnapshot:
    """Read the counts and the queue's depth (jobs waiting for a worker or a retry)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(queue)
        pipe.hgetall(STATUSES_KEY)
        pipe.hgetall(LATENCY_KEY)
        pipe.hgetall(WEBHOOKS_KEY)
        depth, statuses, latency, webhooks = await pipe.execute()
    text = {k.decode(): v.decode() for k, v in latency.items()}
    return JobsSnapshot(
        queued=int(depth),
        statuses={k.decode(): int(v) for k, v in statuses.items()},
        latency_buckets=[(bound, int(text.get(f"le:{bound}", 0))) for bound in BUCKETS],
        latency_sum=float(text.get("sum", 0.0)),
        latency_count=int(text.get("count", 0)),
        webhooks={k.decode(): int(v) for k, v in webhooks.items()},
    )


async def count_webhook(redis: Redis, outcome: str) -> None:
    """Count one webhook attempt's outcome: delivered, failed (to be tried again), gave_up,
    refused (the URL resolved to an address the gateway does not call)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hincrby(WEBHOOKS_KEY, outcome, 1)
        await pipe.execute()


class JobsCollector(Collector):
    """The jobs' families for /metrics, from the snapshot read just before the scrape."""

    def __init__(self) -> None:
        self.last = JobsSnapshot()

    def collect(self) -> Iterator[Metric]:
        """Queue depth, jobs by status, job latency."""
        last = self.last
        yield GaugeMetricFamily(
            "gateway_jobs_queued",
            "Jobs in the queue: waiting for a worker, running, or waiting to be tried again.",
            value=last.queued,
        )
        statuses = CounterMetricFamily(
            "gateway_jobs", "Jobs that entered each status, by every process.", labels=["status"]
        )
        for status, count in sorted(last.statuses.items()):
            statuses.add_metric([status], count)
        yield statuses
        latency = HistogramMetricFamily(
            "gateway_job_duration_seconds",
            "Time from a job's submission to its end (succeeded, failed or cancelled).",
        )
        buckets = [(str(bound), count) for bound, count in last.latency_buckets]
        latency.add_metric([], [*buckets, ("+Inf", last.latency_count)], sum_value=last.latency_sum)
        yield latency
        webhooks = CounterMetricFamily(
            "gateway_webhook_deliveries",
            "Webhook attempts by outcome: delivered, failed (tried again later), gave_up, refused.",
            labels=["outcome"],
        )
        for outcome, count in sorted(last.webhooks.items()):
            webhooks.add_metric([outcome], count)
        yield webhooks
