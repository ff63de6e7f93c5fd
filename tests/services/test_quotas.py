"""Quotas per key (issue 8): requests and images per minute, concurrent requests; each with the
in-process and the Redis backend, on each surface, and two gateway processes sharing one budget."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest
import redis as redis_sync

from app.auth.keygen import hash_key
from app.auth.keys import ApiKey, Limits
from app.problems import ProblemError
from app.quotas import Backend, Quotas
from app.quotas.memory import MemoryBackend
from app.quotas.redis_backend import RedisBackend
from app.settings import Settings
from emulator.testing import EmulatorServer
from tests.support.clock import FakeClock
from tests.support.files import ROOT
from tests.support.gateway import open_app, settings_for
from tests.support.redis_server import RedisServer
from tests.support.served import free_port

T2I = "/v1/images/text-to-image"
REQUEST = {"prompt": "a red kite", "width": 512, "height": 512}
TITAN = "amazon.titan-image-generator-v1"
TITAN_TWO = json.dumps(
    {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a cup"},
        "imageGenerationConfig": {"width": 512, "height": 512, "numberOfImages": 2, "seed": 7},
    }
).encode()
# 15 s into a window: 45 s until it resets.
T0 = 60.0 * 28_000_000 + 15


@pytest.fixture(params=["memory", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which backend the test runs on."""
    return str(request.param)


@pytest.fixture
def store(kind: str, request: pytest.FixtureRequest) -> str:
    """The Redis URL for the redis backend (a flushed, real redis-server); empty for memory."""
    if kind == "memory":
        return ""
    server: RedisServer = request.getfixturevalue("redis")
    return server.url


def backend_for(url: str) -> Backend:
    return RedisBackend.from_url(url) if url else MemoryBackend()


@asynccontextmanager
async def quotas_on(url: str, limits: Limits, **options: Any) -> AsyncIterator[Quotas]:
    quotas = Quotas(backend_for(url), limits, **options)
    try:
        yield quotas
    finally:
        await quotas.close()


def refusal(problem: ProblemError) -> tuple[int, str, dict[str, str]]:
    return problem.status, problem.slug, problem.headers


KEY = ApiKey(name="team", hash="")


class TestBackends:
    async def test_requests_per_minute_in_a_fixed_window(self, store: str) -> None:
        clock = FakeClock(T0)
        async with quotas_on(store, Limits(requests_per_minute=2), clock=clock) as quotas:
            first = await quotas.admit(KEY, 1)
            second = await quotas.admit(KEY, 1)
            assert first.headers == {
                "RateLimit-Policy": '"rpm";q=2;w=60',
                "RateLimit": '"rpm";r=1;t=45',
            }
            assert second.headers["RateLimit"] == '"rpm";r=0;t=45'
            with pytest.raises(ProblemError) as refused:
                await quotas.admit(KEY, 1)
            assert refusal(refused.value) == (
                429,
                "quota-exceeded",
                {
                    "Retry-After": "45",
                    "RateLimit-Policy": '"rpm";q=2;w=60',
                    "RateLimit": '"rpm";r=0;t=45',
                },
            )
            assert refused.value.detail == "the API key 'team' has used its 2 requests per minute"
            assert refused.value.extra == {"quota": ["rpm"]}
            clock.now += 44.5  # still the same window: half a second left, rounded up
            with pytest.raises(ProblemError) as again:
                await quotas.admit(KEY, 1)
            assert again.value.headers["Retry-After"] == "1"
            clock.now += 0.5  # the next window
            later = await quotas.admit(KEY, 1)
            assert later.headers["RateLimit"] == '"rpm";r=1;t=60'

    async def test_images_per_minute_count_n(self, store: str) -> None:
        async with quotas_on(store, Limits(images_per_minute=5), clock=FakeClock(T0)) as quotas:
            lease = await quotas.admit(KEY, 3)
            assert lease.headers == {
                "RateLimit-Policy": '"ipm";q=5;w=60',
                "RateLimit": '"ipm";r=2;t=45',
            }
            with pytest.raises(ProblemError) as refused:
                await quotas.admit(KEY, 3)
            assert refused.value.detail == (
                "the API key 'team' has used its 5 images per minute "
                "(2 left, this request asks for 3)"
            )
            assert refused.value.headers["RateLimit"] == '"ipm";r=2;t=45'
            assert refused.value.headers["Retry-After"] == "45"
            assert (await quotas.admit(KEY, 2)).headers["RateLimit"] == '"ipm";r=0;t=45'
            with pytest.raises(ProblemError):
                await quotas.admit(KEY, 1)

    async def test_n_above_the_minute_is_refused_saying_so(self, store: str) -> None:
        async with quotas_on(store, Limits(images_per_minute=4), clock=FakeClock(T0)) as quotas:
            with pytest.raises(ProblemError) as refused:
                await quotas.admit(KEY, 5)
            assert "asks for 5, more than a minute allows: ask for fewer" in refused.value.detail

    async def test_refused_requests_spend_nothing(self, store: str) -> None:
        limits = Limits(requests_per_minute=10, images_per_minute=4)
        async with quotas_on(store, limits, clock=FakeClock(T0)) as quotas:
            await quotas.admit(KEY, 3)
            for _ in range(3):
                with pytest.raises(ProblemError):
                    await quotas.admit(KEY, 2)
            lease = await quotas.admit(KEY, 1)
            assert lease.headers["RateLimit"] == '"rpm";r=8;t=45, "ipm";r=0;t=45'
            assert lease.headers["RateLimit-Policy"] == '"rpm";q=10;w=60, "ipm";q=4;w=60'

    async def test_concurrent_requests_hold_a_slot_until_they_end(self, store: str) -> None:
        async with quotas_on(store, Limits(concurrent_requests=2), clock=FakeClock(T0)) as quotas:
            async with await quotas.admit(KEY, 1) as first:
                assert first.headers == {
                    "RateLimit-Policy": '"concurrent";q=2;qu="concurrent-requests"',
                    "RateLimit": '"concurrent";r=1',
                }
                async with await quotas.admit(KEY, 1) as second:
                    assert second.headers["RateLimit"] == '"concurrent";r=0'
                    with pytest.raises(ProblemError) as refused:
                        await quotas.admit(KEY, 1)
                    # No window: a slot frees when a request ends.
                    assert refusal(refused.value) == (
                        429,
                        "quota-exceeded",
                        {
                            "Retry-After": "1",
                            "RateLimit-Policy": '"concurrent";q=2;qu="concurrent-requests"',
                            "RateLimit": '"concurrent";r=0',
                        },
                    )
                    assert refused.value.detail.endswith("its 2 concurrent requests")
                third = await quotas.admit(KEY, 1)
                assert third.headers["RateLimit"] == '"concurrent";r=0'
                await third.release()
            async with await quotas.admit(KEY, 1) as again:
                assert again.headers["RateLimit"] == '"concurrent";r=1'

    async def test_a_keys_own_limits_win_over_the_defaults(self, store: str) -> None:
        own = ApiKey(name="small", hash="", limits=Limits(requests_per_minute=1))
        other = ApiKey(name="other", hash="")
        defaults = Limits(requests_per_minute=3, concurrent_requests=5)
        async with quotas_on(store, defaults, clock=FakeClock(T0)) as quotas:
            lease = await quotas.admit(own, 1)
            assert lease.headers["RateLimit-Policy"] == (
                '"rpm";q=1;w=60, "concurrent";q=5;qu="concurrent-requests"'
            )
            with pytest.raises(ProblemError):
                await quotas.admit(own, 1)
            # Each key spends its own budget.
            for left in (2, 1, 0):
                lease = await quotas.admit(other, 1)
                assert lease.headers["RateLimit"].startswith(f'"rpm";r={left};t=45')
            with pytest.raises(ProblemError):
                await quotas.admit(other, 1)

    async def test_without_limits_nothing_is_counted_or_said(self, store: str) -> None:
        async with quotas_on(store, Limits(), clock=FakeClock(T0)) as quotas:
            for _ in range(50):
                assert (await quotas.admit(KEY, 5)).headers == {}


class TestRedis:
    async def test_a_dead_replicas_slot_expires(self, redis: RedisServer) -> None:
        clock = FakeClock(T0)
        limits = Limits(concurrent_requests=1)
        async with quotas_on(redis.url, limits, clock=clock, lease_ttl_s=30) as quotas:
            await quotas.admit(KEY, 1)  # its replica dies: never released
            with pytest.raises(ProblemError):
                await quotas.admit(KEY, 1)
            clock.now += 30
            assert (await quotas.admit(KEY, 1)).headers["RateLimit"] == '"concurrent";r=0'

    async def test_two_replicas_spend_one_budget_exactly(self, redis: RedisServer) -> None:
        limits = Limits(requests_per_minute=5, images_per_minute=8)
        clock = FakeClock(T0)
        async with (
            quotas_on(redis.url, limits, clock=clock) as one,
            quotas_on(redis.url, limits, clock=clock) as two,
        ):

            async def attempt(quotas: Quotas) -> bool:
                try:
                    await quotas.admit(KEY, 1)
                except ProblemError:
                    return False
                return True

            outcomes = await asyncio.gather(*(attempt(q) for q in [one, two] * 15))
            assert outcomes.count(True) == 5
            with pytest.raises(ProblemError) as refused:
                await two.admit(KEY, 1)
            assert refused.value.headers["RateLimit"] == '"rpm";r=0;t=45, "ipm";r=3;t=45'

    async def test_an_unreachable_redis_is_a_503_not_a_free_pass(self) -> None:
        url = f"redis://127.0.0.1:{free_port()}/0"
        async with quotas_on(url, Limits(requests_per_minute=5)) as quotas:
            with pytest.raises(ProblemError) as refused:
                await quotas.admit(KEY, 1)
        assert refusal(refused.value) == (503, "quota-unavailable", {"Retry-After": "1"})


@asynccontextmanager
async def gateway_at(settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (tests/support/gateway.py's open_app), its quotas on `clock`."""
    async with open_app(settings) as (client, state):
        state["runner"].quotas.clock = clock
        yield client


def limited(emulator: EmulatorServer, store: str, **settings: Any) -> Settings:
    backend = {"quota_backend": "redis", "redis_url": store} if store else {}
    return settings_for(emulator, **backend, **settings)


RPM_1 = {"RateLimit-Policy": '"rpm";q=1;w=60', "RateLimit": '"rpm";r=0;t=45'}


def quota_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name: response.headers[name]
        for name in ("Retry-After", "RateLimit-Policy", "RateLimit")
        if name in response.headers
    }


class TestSurfaces:
    async def test_native(self, emulator: EmulatorServer, store: str) -> None:
        settings = limited(emulator, store, default_limits={"requests_per_minute": 1})
        async with gateway_at(settings, FakeClock(T0)) as gateway:
            ok = await gateway.post(T2I, json=REQUEST)
            refused = await gateway.post(T2I, json=REQUEST)
        assert ok.status_code == 200
        assert quota_headers(ok) == RPM_1
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert quota_headers(refused) == {"Retry-After": "45", **RPM_1}
        body = refused.json()
        assert (body["type"], body["status"], body["quota"]) == (
            "/problems/quota-exceeded",
            429,
            ["rpm"],
        )
        assert body["detail"] == "the API key 'anonymous' has used its 1 requests per minute"
        assert len(emulator.requests()) == 1  # refused before any Bedrock call

    async def test_openai(self, emulator: EmulatorServer, store: str) -> None:
        settings = limited(emulator, store, default_limits={"requests_per_minute": 1})
        request = {"prompt": "a lighthouse", "size": "512x512"}
        async with gateway_at(settings, FakeClock(T0)) as gateway:
            ok = await gateway.post("/openai/v1/images/generations", json=request)
            refused = await gateway.post("/openai/v1/images/generations", json=request)
        assert ok.status_code == 200
        assert quota_headers(ok) == RPM_1
        assert refused.status_code == 429
        assert quota_headers(refused) == {"Retry-After": "45", **RPM_1}
        assert refused.headers["retry-after-ms"] == "45000"
        error = refused.json()["error"]
        assert error["message"] == "the API key 'anonymous' has used its 1 requests per minute"
        assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")

    async def test_bedrock_pass_through_counts_n(
        self, emulator: EmulatorServer, store: str
    ) -> None:
        settings = limited(emulator, store, default_limits={"images_per_minute": 3})
        async with gateway_at(settings, FakeClock(T0)) as gateway:
            ok = await gateway.post(f"/model/{TITAN}/invoke", content=TITAN_TWO)
            refused = await gateway.post(f"/model/{TITAN}/invoke", content=TITAN_TWO)
        assert ok.status_code == 200
        assert len(ok.json()["images"]) == 2
        assert quota_headers(ok) == {
            "RateLimit-Policy": '"ipm";q=3;w=60',
            "RateLimit": '"ipm";r=1;t=45',
        }
        assert refused.status_code == 429
        assert refused.headers["x-amzn-ErrorType"] == "ThrottlingException"
        assert refused.json() == {
            "message": "the API key 'anonymous' has used its 3 images per minute "
            "(1 left, this request asks for 2)"
        }
        assert quota_headers(refused) == {
            "Retry-After": "45",
            "RateLimit-Policy": '"ipm";q=3;w=60',
            "RateLimit": '"ipm";r=1;t=45',
        }

    async def test_native_n_counts_images(self, emulator: EmulatorServer, store: str) -> None:
        settings = limited(emulator, store, default_limits={"images_per_minute": 3})
        async with gateway_at(settings, FakeClock(T0)) as gateway:
            two = await gateway.post(T2I, json={**REQUEST, "n": 2})
            refused = await gateway.post(T2I, json={**REQUEST, "n": 2})
            one = await gateway.post(T2I, json={**REQUEST, "n": 1})
        assert [two.status_code, refused.status_code, one.status_code] == [200, 429, 200]
        assert len(two.json()["images"]) == 2
        assert one.headers["RateLimit"] == '"ipm";r=0;t=45'

    async def test_concurrent_requests(self, emulator: EmulatorServer, store: str) -> None:
        settings = limited(emulator, store, default_limits={"concurrent_requests": 1})
        async with gateway_at(settings, FakeClock(T0)) as gateway:
            emulator.hold()
            first = asyncio.create_task(gateway.post(T2I, json=REQUEST))
            await asyncio.to_thread(emulator.wait_for, in_flight=1)
            refused = await gateway.post(T2I, json=REQUEST)
            emulator.release()
            held = await first
            after = await gateway.post(T2I, json=REQUEST)
        assert [held.status_code, refused.status_code, after.status_code] == [200, 429, 200]
        assert quota_headers(refused) == {
            "Retry-After": "1",
            "RateLimit-Policy": '"concurrent";q=1;qu="concurrent-requests"',
            "RateLimit": '"concurrent";r=0',
        }
        assert refused.json()["quota"] == ["concurrent"]

    async def test_keys_have_their_own_limits(self, emulator: EmulatorServer, store: str) -> None:
        keys = [
            {"name": "small", "hash": hash_key("k-small"), "limits": {"requests_per_minute": 1}},
            {"name": "big", "hash": hash_key("k-big")},
        ]
        settings = limited(
            emulator, store, api_keys=keys, default_limits={"requests_per_minute": 2}
        )
        async with gateway_at(settings, FakeClock(T0)) as gateway:

            async def status(key: str) -> int:
                response = await gateway.post(T2I, json=REQUEST, headers={"X-API-Key": key})
                return response.status_code

            small = [await status("k-small") for _ in range(2)]
            big = [await status("k-big") for _ in range(3)]
            last = await gateway.post(T2I, json=REQUEST, headers={"X-API-Key": "k-big"})
        assert small == [200, 429]
        assert big == [200, 200, 429]
        assert last.headers["RateLimit-Policy"] == '"rpm";q=2;w=60'
        assert last.json()["detail"] == "the API key 'big' has used its 2 requests per minute"


class Replica:
    """`python -m app` on a free port with the Redis backend, calling the shared emulator."""

    def __init__(self, emulator: EmulatorServer, redis_url: str, keys: list[dict[str, Any]]):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEWAY_"))}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.port),
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=emulator.url,
            GATEWAY_QUOTA_BACKEND="redis",
            GATEWAY_REDIS_URL=redis_url,
            GATEWAY_API_KEYS=json.dumps(keys),
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def wait_until_serving(self) -> None:
        """Block until uvicorn says it listens (its own log line)."""
        while True:
            try:
                line = self._lines.get(timeout=60)
            except queue.Empty:
                pytest.fail("the gateway did not start within 60 s")
            if line is None:
                pytest.fail(f"the gateway exited ({self.process.wait()}) before serving")
            if f"Uvicorn running on {self.url}" in line:
                return

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()


@pytest.fixture
def replicas(emulator: EmulatorServer, redis: RedisServer) -> Iterator[list[Replica]]:
    """Two gateway processes on one Redis and one emulator; keys `k1` and `k2`, 5 rpm each."""
    keys = [
        {"name": name, "hash": hash_key(name), "limits": {"requests_per_minute": 5}}
        for name in ("k1", "k2")
    ]
    started = [Replica(emulator, redis.url, keys) for _ in range(2)]
    try:
        for replica in started:
            replica.wait_until_serving()
        yield started
    finally:
        for replica in started:
            replica.stop()


async def test_two_gateway_processes_enforce_one_budget(
    replicas: list[Replica], redis: RedisServer, emulator: EmulatorServer
) -> None:
    counters = redis_sync.Redis.from_url(redis.url)
    try:
        # Twelve requests at once, six to each process. The windows are the wall clock's minutes:
        # should a burst straddle a minute's end (Redis then holds two windows for the key), the
        # next key repeats it, a whole minute away from the next edge.
        for key in ("k1", "k2"):
            emulator.reset()
            async with httpx.AsyncClient(timeout=60) as client:
                responses = await asyncio.gather(
                    *(
                        client.post(f"{replica.url}{T2I}", json=REQUEST, headers={"X-API-Key": key})
                        for replica in replicas * 6
                    )
                )
            if len(cast(list[bytes], counters.keys(f"gateway:quota:{key}:rpm:*"))) == 1:
                break
    finally:
        counters.close()
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [429] * 7
    refused = [r for r in responses if r.status_code == 429]
    assert {r.json()["type"] for r in refused} == {"/problems/quota-exceeded"}
    assert {r.headers["RateLimit"].split(";t=")[0] for r in refused} == {'"rpm";r=0'}
    assert len(emulator.requests()) == 5  # Bedrock saw the five admitted, nothing else
