"""The Bedrock Runtime client the gateway shares: aioboto3 over HTTP, made resilient.

Every invocation goes through, in order:

- a deadline: one absolute `time.monotonic()` value for all the waiting a request does (slot
  waits, attempts, pauses); each attempt runs under what is left of it, and passing it mid-attempt
  is 504 `deadline-exceeded`;
- failover: the model's regions, `[entry.region or settings.region, *entry.fallback_regions]`, are
  tried in order, skipping those whose circuit is open; a retryable failure moves the call to the
  next region at once, and after a full round the call pauses (full jitter, `retry.Backoff`) and
  starts again from the first. `max_attempts` counts every call, across regions;
- circuit breaking per (target, region) (`breaker.CircuitBreaker`; a 5xx answer is counted once per
  body, by its digest, so one caller's poisoned body cannot open it); when every region is open the
  caller gets 503 `circuit-open` with Retry-After = what is left of the shortest cool-down;
- admission per target (`admission.ModelGate`, or `leases.RedisGate` shared by every process
  when there is a job queue other processes may use, i.e. not in the embedded mode): a slot is
  held for one attempt only, never during a pause, so waiting callers progress while a failed
  one backs off.

A pause that would end past the deadline is not taken: the last upstream error is raised, which
`errors.upstream_problem` maps for the caller. Non-retryable errors (`retry.classify`) are raised
at once. botocore's own retries are off: this is the only retry layer. Cancellation propagates at
once: the slot is released, the breaker is not charged, and the HTTP call is abandoned mid-flight
so Bedrock sees the connection close.

`BedrockClient.counters` (a `collections.Counter`, exported as metrics) has these keys:

- ("attempt", target, region): calls made;
- ("retry", target, cause): calls made again after a failure, by the failure's cause (Bedrock's
  error code, or ReadTimeout / ConnectTimeout / ConnectionError);
- ("failover", target, from_region, to_region): calls moved to another region;
- ("rejected", target, slug): calls refused by the gateway (overloaded, queue-timeout,
  circuit-open, deadline-exceeded);
- ("breaker", target, region, state): circuit transitions into `state` (open, half_open, closed).

`BedrockClient.circuits()` lists every circuit's state and `admission.describe()` every gate's.

botocore fixes the region and read timeout per client, and models differ in both (Stability's
current models are served from us-west-2 and can take long), so there is one client per
(region, read timeout) pair, opened on first use and closed with the app.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import aioboto3
import orjson
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

from ..observability import facts
from ..observability.metrics import Metrics
from ..problems import ProblemError
from ..problems.types import CIRCUIT_OPEN, DEADLINE_EXCEEDED
from ..settings import Backend, Settings
from . import blobs, converse_wire
from .admission import Admission, shared_slots
from .breaker import CircuitBreaker, State
from .retry import Backoff, Verdict, classify

_T = TypeVar("_T")

# The emulator checks no credentials; giving some keeps botocore from searching the chain
# (environment, profile files, instance metadata), which would slow the first call.
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}


class Target(Protocol):
    """Where a model is called: what the registry's entries provide."""

    @property
    def target(self) -> str: ...

    @property
    def region(self) -> str | None: ...

    @property
    def fallback_regions(self) -> tuple[str, ...]: ...

    @property
    def read_timeout_s(self) -> float | None: ...


class BedrockClient:
    """Invokes models under a deadline, with admission, circuit breaking, failover and retries.

    `clock` is the breakers' monotonic clock and `rng` the jitter's generator: both replaceable
    (attributes `clock`, `backoff.rng`) so tests move time and pin pauses without sleeping.
    """

    def __init__(
        self,
        settings: Settings,
        stack: AsyncExitStack,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._stack = stack
        self._session = aioboto3.Session()
        self._clients: dict[tuple[str, float], Any] = {}
        self._opening = asyncio.Lock()
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self.clock = clock
        self.backoff = Backoff(settings.retry_base_s, settings.retry_cap_s, rng)
        self.admission = Admission(
            settings.max_concurrency_per_model, settings.max_queue_per_model, shared_slots(settings)
        )
        stack.push_async_callback(self.admission.aclose)
        self.counters: Counter[tuple[str, ...]] = Counter()
        # Where call durations and slot waits go (the app's metrics); None records nothing.
        self.observer: Metrics | None = None

    async def invoke(
        self,
        model: Target,
        body: dict[str, Any] | bytes,
        *,
        deadline: float | None = None,
        payload_sha256: str | None = None,
    ) -> dict[str, Any]:
        """POST the body (a dict, or already JSON) to `model/{target}/invoke` and return the
        parsed JSON answer.

        `deadline`: absolute `time.monotonic()`; None means now + request_deadline_s.
        `payload_sha256`: the body's SHA-256 (hex) when the caller has it, sent as
        X-Amz-Content-SHA256 so that signing does not hash the body again on the event loop.
        Raises the last botocore/aiohttp exception (`errors.upstream_problem` maps it) or a
        ProblemError.
        """
        payload = body if isinstance(body, bytes) else orjson.dumps(body)

        async def call(client: Any) -> bytes:
            # A file object, not bytes: aiohttp then streams a multi-megabyte body in chunks
            # instead of one write (and warns when given raw bytes over 1 MB).
            with _signed_with(payload_sha256):
                response = await client.invoke_model(
                    modelId=model.target,
                    body=io.BytesIO(payload),
                    contentType="application/json",
                    accept="application/json",
                )
            return await _read_all(response["body"])

        parsed: dict[str, Any] = blobs.loads(await self._resilient(model, deadline, call, payload))
        return parsed

    async def invoke_raw(
        self,
        model: Target,
        body: bytes,
        accept: str,
        *,
        deadline: float | None = None,
        payload_sha256: str | None = None,
    ) -> tuple[bytes, str]:
        """POST `body` unchanged and return the answer's bytes and content type, untouched.

        For callers that speak Bedrock's own schema: nothing is parsed or re-serialised either way.
        Deadline, `payload_sha256` and errors as for `invoke`.
        """

        async def call(client: Any) -> tuple[bytes, str]:
            with _signed_with(payload_sha256):
                response = await client.invoke_model(
                    modelId=model.target,
                    body=io.BytesIO(body),
                    contentType="application/json",
                    accept=accept,
                )
            raw = await _read_all(response["body"])
            return raw, str(response.get("contentType") or "application/json")

        return await self._resilient(model, deadline, call, body)

    async def converse(
        self, model: Target, body: dict[str, Any] | bytes, *, deadline: float | None = None
    ) -> dict[str, Any]:
        """Call the Converse operation with `body`, Converse's JSON as on the wire (base64
        blobs), and return the answer in the same form. Deadline, retries and errors as for
        `invoke`."""
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        params = converse_wire.to_params(orjson.loads(payload))

        async def call(client: Any) -> dict[str, Any]:
            response: dict[str, Any] = await client.converse(modelId=model.target, **params)
            return converse_wire.to_wire(response)

        return await self._resilient(model, deadline, call, payload)

    def regions(self, model: Target) -> list[str]:
        """The regions `model` is called in, in order of preference."""
        first = model.region or self._settings.region
        return list(dict.fromkeys([first, *model.fallback_regions]))

    def circuits(self) -> list[dict[str, Any]]:
        """Every circuit opened so far: target, region, state, failures in a row, and the seconds
        left of an open circuit's cool-down."""
        now = self.clock()
        return [
            {"target": target, "region": region, **breaker.describe(now)}
            for (target, region), breaker in self._breakers.items()
        ]

    async def _resilient(
        self,
        model: Target,
        deadline: float | None,
        call: Callable[[Any], Awaitable[_T]],
        body: bytes,
    ) -> _T:
        settings = self._settings
        digest = _BodyDigest(body)
        if deadline is None:
            deadline = time.monotonic() + settings.request_deadline_s
        target = model.target
        regions = self.regions(model)
        attempts = 0
        last: tuple[Exception, Verdict, str] | None = None
        rounds = 0
        while True:
            if last is not None:
                if attempts >= settings.max_attempts:
                    raise last[0]  # no pause after the last attempt
                pause = self.backoff.pause(rounds - 1)
                if time.monotonic() + pause >= deadline:
                    raise last[0]
                await asyncio.sleep(pause)
            rounds += 1
            called = False
            for region in regions:
                if attempts >= settings.max_attempts:
                    assert last is not None  # max_attempts >= 1, so a call was made
                    raise last[0]
                if time.monotonic() >= deadline:
                    if last is not None:
                        raise last[0]
                    raise self._deadline_exceeded(target)
                breaker = self._breaker(target, region)
                if not breaker.allow(self.clock()):
                    continue
                if last is not None:
                    self.counters["retry", target, last[1].cause] += 1
                    if last[2] != region:
                        self.counters["failover", target, last[2], region] += 1
                attempts += 1
                called = True
                try:
                    return await self._attempt(model, region, breaker, deadline, call, digest)
                except Exception as exc:
                    verdict = classify(exc)
                    if verdict is None or not verdict.retryable:
                        raise
                    last = (exc, verdict, region)
            if not called:
                if last is not None:
                    raise last[0]
                raise self._circuit_open(target, regions)

    async def _attempt(
        self,
        model: Target,
        region: str,
        breaker: CircuitBreaker,
        deadline: float,
        call: Callable[[Any], Awaitable[_T]],
        digest: _BodyDigest,
    ) -> _T:
        """One call in one region, holding a slot, under what is left of the deadline."""
        target = model.target
        wait_s = min(self._settings.queue_timeout_s, deadline - time.monotonic())
        queued = time.monotonic()
        try:
            async with self.admission.gate(target).slot(wait_s):
                if self.observer is not None:
                    self.observer.queue_wait(target, time.monotonic() - queued)
                self.counters["attempt", target, region] += 1
                client = await self._client_for(region, model.read_timeout_s)
                limit = asyncio.timeout_at(_loop_time(deadline))
                try:
                    result = await self._timed(target, limit, call, client)
                except TimeoutError:
                    if not limit.expired():
                        raise
                    # The deadline cut the call: the region was too slow (a timeout, an outage).
                    breaker.failed(self.clock())
                    raise self._deadline_exceeded(target) from None
        except ProblemError as problem:
            if problem.slug != "deadline-exceeded":
                breaker.released()
                self.counters["rejected", target, problem.slug] += 1
            raise
        except BaseException as exc:
            verdict = classify(exc)
            if verdict is None or not verdict.retryable:
                # A cancellation or a bug says nothing of the region; a non-retryable answer
                # (a validation error) proves it is up.
                if verdict is None:
                    breaker.released()
                else:
                    breaker.succeeded()
            elif verdict.outage:
                # An answer is about this body (counted once per body); a timeout or a broken
                # connection is about the region.
                body = await digest.value() if isinstance(exc, ClientError) else None
                breaker.failed(self.clock(), body)
            else:
                breaker.released()
            raise
        breaker.succeeded()
        return result

    async def _timed(
        self,
        target: str,
        limit: asyncio.Timeout,
        call: Callable[[Any], Awaitable[_T]],
        client: Any,
    ) -> _T:
        """Make the call under `limit`, timing it for the metrics (by outcome) and for the
        request's upstream time."""
        started = time.monotonic()
        outcome = "success"
        try:
            with facts.upstream_call(target):
                async with limit:
                    return await call(client)
        except BaseException as exc:
            outcome = _outcome(exc)
            raise
        finally:
            if self.observer is not None:
                self.observer.bedrock_call(target, outcome, time.monotonic() - started)

    def _breaker(self, target: str, region: str) -> CircuitBreaker:
        key = (target, region)
        breaker = self._breakers.get(key)
        if breaker is None:

            def count(state: State) -> None:
                self.counters["breaker", target, region, state.value] += 1

            breaker = self._breakers[key] = CircuitBreaker(
                self._settings.breaker_failure_threshold,
                self._settings.breaker_cooldown_s,
                on_change=count,
            )
        return breaker

    def _circuit_open(self, target: str, regions: list[str]) -> ProblemError:
        now = self.clock()
        wait = min(self._breaker(target, region).retry_after(now) for region in regions)
        self.counters["rejected", target, "circuit-open"] += 1
        return CIRCUIT_OPEN.error(
            detail=(
                f"{target} failed repeatedly in {', '.join(regions)}; calls are paused for "
                f"{wait} s before one is tried again"
            ),
            headers={"Retry-After": str(wait)},
        )

    def _deadline_exceeded(self, target: str) -> ProblemError:
        self.counters["rejected", target, "deadline-exceeded"] += 1
        return DEADLINE_EXCEEDED.error(
            detail=f"the call to {target} did not finish within the request's deadline",
        )

    async def _client_for(self, region: str, read_timeout_s: float | None) -> Any:
        key = (region, read_timeout_s or self._settings.read_timeout_s)
        client = self._clients.get(key)
        if client is None:
            async with self._opening:
                client = self._clients.get(key)
                if client is None:
                    opened = await self._stack.enter_async_context(self._open(*key))
                    opened.meta.events.register(
                        "before-send.bedrock-runtime.Converse", _body_as_file
                    )
                    opened.meta.events.register(
                        "before-sign.bedrock-runtime.InvokeModel", _known_payload_digest
                    )
                    self._clients[key] = client = opened
        return client

    def _open(self, region: str, read_timeout_s: float) -> Any:
        settings = self._settings
        emulated = settings.backend is Backend.EMULATOR
        config = AioConfig(
            connect_timeout=settings.connect_timeout_s,
            read_timeout=read_timeout_s,
            # One retry layer, the gateway's: botocore's would multiply every attempt.
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=max(64, settings.max_concurrency_per_model * 4),
            # The bodies are the adapters' own, built to the schema: botocore's check of every
            # call's parameters against the service model would only cost time.
            parameter_validation=False,
            tcp_keepalive=True,
            # botocore prefers AWS_BEARER_TOKEN_BEDROCK when it is set, and callers set it to send
            # their gateway key: under the emulator backend, sign with the placeholder keys
            # instead, so no key in the environment ever travels upstream.
            signature_version="v4" if emulated else None,
        )
        kwargs: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": settings.endpoint(region),
            "config": config,
        }
        if emulated:
            # Also for another endpoint under the emulator backend: a Bedrock-compatible server
            # that checks signatures is the `aws` backend's case, with credentials from the chain.
            kwargs.update(_EMULATOR_CREDENTIALS)
        return self._session.client("bedrock-runtime", **kwargs)


# The SHA-256 of the InvokeModel body being sent, when its caller computed it (`invoke`).
_PAYLOAD_SHA256: ContextVar[str | None] = ContextVar("payload_sha256", default=None)


@contextmanager
def _signed_with(digest: str | None) -> Iterator[None]:
    """The InvokeModel sent within is signed with `digest` (None: botocore hashes the body)."""
    token = _PAYLOAD_SHA256.set(digest)
    try:
        yield
    finally:
        _PAYLOAD_SHA256.reset(token)


def _known_payload_digest(request: Any, **_: Any) -> None:
    """SigV4 signs the body's SHA-256; given as X-Amz-Content-SHA256 (as AWS's JavaScript SDK
    sends it to every service), botocore signs that instead of hashing the body itself, which
    for an image body is milliseconds on the event loop. Signed with the request, so a digest
    that did not match the body would be refused by Bedrock, not sent unnoticed."""
    digest = _PAYLOAD_SHA256.get()
    if digest is not None:
        request.headers["X-Amz-Content-SHA256"] = digest


def _body_as_file(request: Any, **_: Any) -> None:
    """A Converse body (botocore serialises it) as a file object: aiohttp then streams it in
    chunks, as InvokeModel's, instead of one write of megabytes."""
    if isinstance(request.body, bytes):
        request.body = io.BytesIO(request.body)


class _BodyDigest:
    """The digest of one request's Bedrock body, made only when an answer fails (and once)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._digest: bytes | None = None

    async def value(self) -> bytes:
        """BLAKE2b-128 of the body, seeds aside; a thread hashes bodies too large to hash on the
        loop."""
        if self._digest is None:
            if len(self._body) <= _HASH_INLINE_BYTES:
                self._digest = _digest(self._body)
            else:
                self._digest = await asyncio.to_thread(_digest, self._body)
        return self._digest


# Hashing runs at about 1 GB/s: past this a thread hop is cheaper than holding the loop.
_HASH_INLINE_BYTES = 256 * 1024


def _digest(body: bytes) -> bytes:
    """What the body asks for, its seeds aside: the same poisoned image sent again with another
    seed (a caller's, or the one the gateway picks for a request without one, or each call of a
    fan-out) is the same body to the breaker."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return hashlib.blake2b(body, digest_size=16).digest()
    unseeded = orjson.dumps(_without_seeds(parsed), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(unseeded, digest_size=16).digest()


def _without_seeds(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_seeds(item) for key, item in value.items() if key != "seed"}
    if isinstance(value, list):
        return [_without_seeds(item) for item in value]
    return value


async def _read_all(body: Any) -> bytes:
    """An answer's body, copied once.

    aiobotocore's `read()` joins aiohttp's buffered chunks at every wake-up and then joins the
    joins: two copies of megabytes, each in freshly faulted memory, on the event loop. Taking the
    chunks as aiohttp received them and joining once halves that. aiohttp itself raises when the
    body ends short of its Content-Length.
    """
    async with body as stream:
        content = getattr(getattr(body, "__wrapped__", None), "content", None)
        if content is None or not hasattr(content, "iter_chunks"):
            raw: bytes = await stream.read()  # another HTTP backend: its own read
            return raw
        chunks = [chunk async for chunk, _ in content.iter_chunks() if chunk]
        return b"".join(chunks)


def _outcome(exc: BaseException) -> str:
    """A failed call's outcome label: Bedrock's error code or the transport failure, `deadline`
    when the request's deadline cut it, `cancelled` when its caller left."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, TimeoutError):
        return "deadline"
    verdict = classify(exc)
    return verdict.cause if verdict is not None else "error"


def _loop_time(deadline: float) -> float:
    """`deadline` (time.monotonic()) on the event loop's clock."""
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


@asynccontextmanager
async def open_bedrock(settings: Settings) -> AsyncIterator[BedrockClient]:
    """The shared clients for the app's lifetime; each is closed when the app stops."""
    async with AsyncExitStack() as stack:
        yield BedrockClient(settings, stack)
