"""The facts of the request being served, gathered by the layers that learn them.

The access middleware binds one `RequestFacts` per request to a context variable; the runner notes
the model, task and image count, the Bedrock client times its calls, and the middleware reads it
all back for the log line, the metrics and Server-Timing. Tasks and threads started for the
request copy the context, so they all write to the same object. Outside a request (tests calling
the runner directly) there is none, and every note is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RequestFacts:
    """What one request did, as far as the layers below the surfaces told."""

    model: str | None = None
    task: str | None = None
    n: int | None = None
    prompt: str | None = None
    images: int = 0
    problem: str | None = None
    # What the request cost (micro-dollars), once a task settled its spend; None before, or when
    # no model's price is known.
    cost_micros: int | None = None
    settled: bool = False
    # Bedrock time is the union of the spans with at least one call in flight: a fan-out of four
    # concurrent calls counts once, so gateway time (total minus this) is never negative.
    upstream_s: float = 0.0
    _calls_in_flight: int = 0
    _busy_since: float = 0.0

    def call_started(self, now: float) -> None:
        """A Bedrock call began at `now` (monotonic seconds)."""
        if self._calls_in_flight == 0:
            self._busy_since = now
        self._calls_in_flight += 1

    def call_ended(self, now: float) -> None:
        """A Bedrock call ended at `now`."""
        self._calls_in_flight -= 1
        if self._calls_in_flight == 0:
            self.upstream_s += now - self._busy_since


_current: ContextVar[RequestFacts | None] = ContextVar("request_facts", default=None)


def begin() -> RequestFacts:
    """Bind fresh facts to the current context (the access middleware, once per request)."""
    facts = RequestFacts()
    _current.set(facts)
    return facts


def current() -> RequestFacts | None:
    """The facts of the request being served, None outside one."""
    return _current.get()


def note(
    *,
    model: str | None = None,
    task: str | None = None,
    n: int | None = None,
    prompt: str | None = None,
) -> None:
    """Record what the request asks for; fields left None keep what an earlier note said."""
    facts = _current.get()
    if facts is None:
        return
    if model is not None:
        facts.model = model
    if task is not None:
        facts.task = task
    if n is not None:
        facts.n = n
    if prompt is not None:
        facts.prompt = prompt


def note_images(count: int) -> None:
    """Record images produced for the request."""
    facts = _current.get()
    if facts is not None:
        facts.images += count


def note_cost(micros: int | None) -> None:
    """Record what one run of a task cost (runs add up: a generation and its background removal);
    None when its price is unknown."""
    facts = _current.get()
    if facts is None:
        return
    facts.settled = True
    if micros is not None:
        facts.cost_micros = (facts.cost_micros or 0) + micros


def note_problem(slug: str) -> None:
    """Record the problem the request is refused with (e.g. `quota-exceeded`), which the
    surfaces' own error shapes do not all carry."""
    facts = _current.get()
    if facts is not None:
        facts.problem = slug


@contextmanager
def upstream_call(model: str) -> Iterator[None]:
    """Time one Bedrock call towards the request's upstream time; names `model` for a request
    that no runner described (the Bedrock pass-through)."""
    facts = _current.get()
    if facts is None:
        yield
        return
    if facts.model is None:
        facts.model = model
    facts.call_started(time.monotonic())
    try:
        yield
    finally:
        facts.call_ended(time.monotonic())
