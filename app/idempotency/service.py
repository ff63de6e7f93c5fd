"""The lifecycle of one idempotency key: claimed by its first request, then either the stored
answer (replayed to every retry for the retention window) or released (its run failed: a retry
runs again).

A retry that arrives while the first request still runs waits for it rather than getting a 409:
the commonest retry is a client's own after its timeout, and what it wants is the answer the
first attempt is about to produce, not an error telling it to try again later. A waiter on the
replica that runs the request is woken as the answer is stored; one on another replica looks
again every quarter of a second. A run that never ends (its replica died) holds the key only
until its lease runs out; then a waiter takes the key and runs the request itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from redis.exceptions import RedisError

from ..problems import FieldProblem, ProblemError
from ..problems.types import IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_UNAVAILABLE
from ..store import ResultStore
from .header import HEADER
from .index import RecordIndex

# How often a waiter looks at a key another replica runs.
_POLL_S = 0.25


@dataclass(frozen=True)
class Claim:
    """A key this request runs: its record id and the record that says so."""

    record_id: str
    value: str


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as it is replayed: status, headers (latin-1 pairs) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class KeyReused(ProblemError):
    """422: the key was used before for another request."""

    def __init__(self) -> None:
        message = (
            "was used before with another request (method, path or body): a retry must send "
            "the same request, a new request a new key"
        )
        super().__init__(
            *IDEMPOTENCY_KEY_REUSED.head,
            detail=f"{HEADER} {message}",
            errors=[FieldProblem(field=HEADER, message=message)],
        )


class IdempotencyUnavailable(ProblemError):
    """503: the index of keys cannot be read (Redis does not answer)."""

    def __init__(self) -> None:
        super().__init__(
            *IDEMPOTENCY_UNAVAILABLE.head,
            detail=f"the store of {HEADER} records does not answer: retry later, or send the "
            "request without the header",
            headers={"Retry-After": "1"},
        )


class Idempotency:
    """Keys' records in `index`, answers' bodies in `store`."""

    def __init__(
        self,
        index: RecordIndex,
        store: ResultStore,
        *,
        ttl_s: float,
        lease_s: float,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.store = store
        self.ttl_s = ttl_s
        self.lease_s = lease_s
        self.max_bytes = max_bytes
        self.clock = clock
        self._ended: dict[str, asyncio.Event] = {}

    async def begin(self, owner: str, key: str, fingerprint: str) -> Claim | StoredAnswer:
        """Claim `key` of `owner` for a request of `fingerprint`, or the answer stored for it;
        waits while another request runs it. KeyReused when it was used for another request."""
        record_id = hashlib.sha256(f"{owner}\n{key}".encode()).hexdigest()
        try:
            while True:
                now = self.clock()
                mine = _dumps(
                    state="running",
                    fingerprint=fingerprint,
                    token=secrets.token_hex(8),
                    expires_at=now + self.lease_s,
                )
                found = await self.index.claim(record_id, mine, self.lease_s)
                if found is None:
                    self._ended[record_id] = asyncio.Event()
                    return Claim(record_id, mine)
                record = orjson.loads(found)
                if record["expires_at"] <= now:
                    await self.index.swap(record_id, found, None, 0)
                    continue
                if record["fingerprint"] != fingerprint:
                    raise KeyReused()
                if record["state"] == "running":
                    await self._wait(record_id)
                    continue
                body = await self.store.get(record["body"])
                if body is None:
                    # Swept from the store before its record expired: process it again.
                    await self.index.swap(record_id, found, None, 0)
                    continue
                headers = [(name, value) for name, value in record["headers"]]
                return StoredAnswer(record["status"], headers, body)
        except (OSError, RedisError) as exc:
            raise IdempotencyUnavailable() from exc

    async def finish(self, claim: Claim, answer: StoredAnswer) -> None:
        """Store `answer` as the key's for the retention window."""
        record = orjson.loads(claim.value)
        name = f"answer_{claim.record_id}.bin"
        try:
            await self.store.put(name, answer.body)
            done = _dumps(
                state="done",
                fingerprint=record["fingerprint"],
                expires_at=self.clock() + self.ttl_s,
                status=answer.status,
                headers=answer.headers,
                body=name,
            )
            await self.index.swap(claim.record_id, claim.value, done, self.ttl_s)
        except BaseException:
            # Not kept: free the key now, or its waiters would wait out the lease.
            await self.index.swap(claim.record_id, claim.value, None, 0)
            raise
        finally:
            self._end(claim)

    async def release(self, claim: Claim) -> None:
        """Give the key up (its request produced no answer worth keeping): a retry runs again."""
        try:
            await self.index.swap(claim.record_id, claim.value, None, 0)
        finally:
            self._end(claim)

    async def sweep(self) -> int:
        """Delete the stored answers older than the retention window; how many went."""
        return await self.store.sweep(self.ttl_s)

    def _end(self, claim: Claim) -> None:
        ended = self._ended.pop(claim.record_id, None)
        if ended is not None:
            ended.set()

    async def _wait(self, record_id: str) -> None:
        ended = self._ended.get(record_id)
        if ended is None:
            # Run by another replica: nothing here is told when it ends.
            await asyncio.sleep(_POLL_S)
            return
        await ended.wait()


def _dumps(**fields: Any) -> str:
    return orjson.dumps(fields).decode()
