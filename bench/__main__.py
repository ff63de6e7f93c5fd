"""`python -m bench` (`make bench`): every measurement of issue 9, then BENCHMARKS.md and
bench/results/latest.json.

Phases, each against a fresh gateway (`python -m app`, as a user runs it) and the near-zero-cost
upstream of `bench.upstream`:

1. latency and throughput: for each call, rounds of direct (A) then gateway (B), at concurrency 1
   and 16, 50 ms upstream latency;
2. fan-out: n=10 SDXL through the gateway against one direct SDXL call, 300 ms upstream latency;
3. memory: peak RSS during 64 concurrent 1408×768 PNG uploads (1 s upstream latency, so all 64
   are inside at once), then RSS over 10,000 requests;
4. start-up: from `python -m app` to its first answer;
5. jobs: a batch through two workers against the same calls made directly (`bench.jobs`).

`--phases jobs` runs one phase alone; the others' numbers are kept from the last run.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import uvloop

from . import procs, report
from .jobs import LINES_PER_WORKER, jobs_phase
from .load import Run, Target, check, median, percentile
from .scenarios import Scenario, fan_out, inpaint, latency_scenarios, text_to_image

LATENCY_MS = 50
FAN_OUT_LATENCY_MS = 300
UPLOAD_LATENCY_MS = 1000


async def set_latency(upstream_url: str, ms: float) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{upstream_url}/_bench/latency/{ms}") as response,
    ):
        response.raise_for_status()


def _stats(side: list[Run]) -> dict[str, float]:
    pooled = [latency for run in side for latency in run.latencies]
    return {
        "p50_ms": median([percentile(run.latencies, 50) for run in side]) * 1000,
        "p99_ms": percentile(pooled, 99) * 1000,
        "rps": median([run.throughput for run in side]),
        "requests": len(pooled),
    }


async def compare(
    direct: Target, gateway: Target, scenario: Scenario, concurrency: int, rounds: int, per: int
) -> dict[str, Any]:
    """Rounds of A (direct) then B (gateway), `per` requests each; medians over rounds."""
    a_runs: list[Run] = []
    b_runs: list[Run] = []
    for _ in range(rounds):
        a_runs.append(await direct.run(scenario.direct, concurrency, per))
        b_runs.append(await gateway.run(scenario.gateway, concurrency, per))
    added_p50 = median(
        [
            percentile(b.latencies, 50) - percentile(a.latencies, 50)
            for a, b in zip(a_runs, b_runs, strict=True)
        ]
    )
    ratio = median([b.throughput / a.throughput for a, b in zip(a_runs, b_runs, strict=True)])
    a, b = _stats(a_runs), _stats(b_runs)
    return {
        "concurrency": concurrency,
        "direct": a,
        "gateway": b,
        "added_p50_ms": added_p50 * 1000,
        "added_p99_ms": b["p99_ms"] - a["p99_ms"],
        "throughput_ratio": ratio,
    }


async def warm(direct: Target, gateway: Target, scenario: Scenario) -> None:
    await check(direct, scenario.direct, scenario, direct=True)
    await check(gateway, scenario.gateway, scenario, direct=False)
    await direct.run(scenario.direct, 4, 8)
    await gateway.run(scenario.gateway, 4, 8)


async def latency_phase(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with gateway_and_upstream(LATENCY_MS) as (gateway_url, upstream_url, _):
        direct, gateway = Target(upstream_url), Target(gateway_url)
        try:
            for scenario in latency_scenarios():
                if args.only and not any(part in scenario.name for part in args.only):
                    continue
                await warm(direct, gateway, scenario)
                one = await compare(direct, gateway, scenario, 1, args.rounds, args.per_c1)
                many = await compare(direct, gateway, scenario, 16, args.rounds, args.per_c16)
                results.append(
                    {"name": scenario.name, "label": scenario.label, "c1": one, "c16": many}
                )
                report.progress(results[-1])
        finally:
            await direct.close()
            await gateway.close()
    return results


async def fan_out_phase(args: argparse.Namespace) -> dict[str, Any]:
    scenario = fan_out(10)
    with gateway_and_upstream(FAN_OUT_LATENCY_MS) as (gateway_url, upstream_url, _):
        direct, gateway = Target(upstream_url), Target(gateway_url)
        try:
            await warm(direct, gateway, scenario)
            result = await compare(direct, gateway, scenario, 1, args.rounds, args.per_fan_out)
        finally:
            await direct.close()
            await gateway.close()
    one, ten = result["direct"]["p50_ms"], result["gateway"]["p50_ms"]
    out = {
        "name": scenario.name,
        "label": scenario.label,
        "one_call_p50_ms": one,
        "n10_p50_ms": ten,
        "ratio": ten / one,
        "upstream_latency_ms": FAN_OUT_LATENCY_MS,
    }
    print(f"fan-out: one call {one:.0f} ms, n=10 {ten:.0f} ms, ratio {ten / one:.2f}", flush=True)
    return out


async def memory_phase(args: argparse.Namespace) -> dict[str, Any]:
    upload = inpaint(1408, 768, name="titan-inpaint-1408x768")
    mixed = [*latency_scenarios(), upload]
    with gateway_and_upstream(UPLOAD_LATENCY_MS) as (gateway_url, upstream_url, process):
        direct, gateway = Target(upstream_url), Target(gateway_url, pool=256)
        try:
            await check(gateway, upload.gateway, upload, direct=False)
            await gateway.run(upload.gateway, 16, 32)
            before = procs.memory_kib(process.pid)
            reset = procs.reset_peak(process.pid)
            for _ in range(args.upload_waves):
                await gateway.run(upload.gateway, 64, 64)
            after = procs.memory_kib(process.pid)
            peak = after["VmHWM"]
            print(
                f"memory: {before['VmRSS'] / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB "
                f"during 64 concurrent uploads",
                flush=True,
            )

            await set_latency(upstream_url, LATENCY_MS)
            samples = []
            done = 0
            step = args.growth_requests // 10
            while done < args.growth_requests:
                for scenario in mixed:
                    await gateway.run(scenario.gateway, 16, step // len(mixed))
                done += step // len(mixed) * len(mixed)
                rss = procs.memory_kib(process.pid)["VmRSS"]
                samples.append({"requests": done, "rss_mib": rss / 1024})
                print(f"  after {done} requests: {rss / 1024:.0f} MiB", flush=True)
        finally:
            await direct.close()
            await gateway.close()
    return {
        "rss_before_uploads_mib": before["VmRSS"] / 1024,
        "peak_rss_mib": peak / 1024,
        "peak_includes_start": not reset,
        "uploads": 64 * args.upload_waves,
        "upload_bytes": len(upload.gateway.body),
        "growth": samples,
    }


async def startup_phase(args: argparse.Namespace) -> dict[str, Any]:
    """From starting `python -m app` to the first 200 of a text-to-image request."""
    call = text_to_image(512, 1).gateway
    times = []
    upstream_port = procs.free_port()
    with procs.upstream(upstream_port, LATENCY_MS) as up:
        procs.wait_for_port(upstream_port, up)
        for _ in range(args.startups):
            port = procs.free_port()
            started = time.perf_counter()
            with procs.gateway(port, upstream_port) as process:
                target = Target(f"http://127.0.0.1:{port}")
                try:
                    while True:
                        try:
                            status, _, _ = await target.post(call)
                        except aiohttp.ClientConnectionError:
                            if process.poll() is not None:
                                raise SystemExit("the gateway exited during start-up") from None
                            await asyncio.sleep(0.005)
                            continue
                        if status == 200:
                            break
                        raise SystemExit(f"the first answer was {status}")
                    times.append(time.perf_counter() - started)
                finally:
                    await target.close()
    first = median(times)
    print(
        f"start-up: {first * 1000:.0f} ms to the first answer (median of {len(times)})", flush=True
    )
    return {"first_answer_ms": first * 1000, "runs_ms": [t * 1000 for t in times]}


@contextmanager
def gateway_and_upstream(latency_ms: float) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """The upstream at `latency_ms`, and a fresh gateway pointed at it, both listening."""
    up_port, gw_port = procs.free_port(), procs.free_port()
    with procs.upstream(up_port, latency_ms) as up:
        procs.wait_for_port(up_port, up)
        with procs.gateway(gw_port, up_port) as gw:
            procs.wait_for_port(gw_port, gw)
            yield f"http://127.0.0.1:{gw_port}", f"http://127.0.0.1:{up_port}", gw


async def main(args: argparse.Namespace) -> None:
    results: dict[str, Any] = {"machine": report.machine(), "settings": vars(args).copy()}
    phases = args.phases
    if "latency" in phases:
        results["latency"] = await latency_phase(args)
    if "fan-out" in phases:
        results["fan_out"] = await fan_out_phase(args)
    if "memory" in phases:
        results["memory"] = await memory_phase(args)
    if "startup" in phases:
        results["startup"] = await startup_phase(args)
    if "jobs" in phases:
        results["jobs"] = await jobs_phase(args.batch_sizes, LATENCY_MS, args.lines_per_worker)
        results["jobs"]["machine"] = results["machine"]
    if args.write:
        report.write(results)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "--phases", nargs="+", default=["latency", "fan-out", "memory", "startup", "jobs"]
    )
    parser.add_argument(
        "--only", nargs="*", help="latency scenarios whose name contains one of these"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-c1", type=int, default=30, help="requests per side per round at c=1")
    parser.add_argument(
        "--per-c16",
        type=int,
        default=480,
        # 30 requests a worker: the first wave, all 16 sent at once, does not dominate the round.
        help="requests per side per round at c=16",
    )
    parser.add_argument("--per-fan-out", type=int, default=6)
    parser.add_argument("--upload-waves", type=int, default=3)
    parser.add_argument("--growth-requests", type=int, default=10_000)
    parser.add_argument("--startups", type=int, default=5)
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[1000, 5000],
        help="lines of the jobs phase's batches (peak RSS is compared across them)",
    )
    parser.add_argument(
        "--lines-per-worker",
        type=int,
        default=LINES_PER_WORKER,
        help="GATEWAY_JOBS_PER_WORKER of the jobs phase's workers",
    )
    parser.add_argument("--no-write", dest="write", action="store_false")
    return parser.parse_args(argv)


if __name__ == "__main__":
    uvloop.run(main(parse()))
