"""The access middleware: per request, the metrics, one JSON log line, and Server-Timing.

It also writes `Cost-USD` (what the request cost at the gateway's prices, app/spend) on every
answer of a request that ran a task, whatever the surface. Pure ASGI, placed just inside the
request-id middleware so it sees every answer, refusals made by the middleware further in
(gateway-busy, a missing key) included. The route label is the matched route's template
(`/model/{model_id}/invoke`), never the raw path, so a scan of random paths cannot create series
without end; unmatched paths count as `unmatched`.

A request whose caller hung up before any answer is recorded with status 499 (nginx's "client
closed request"): nothing was sent, but it was served and may have cost Bedrock calls.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..observability import facts as request_facts
from ..observability.metrics import Metrics

log = logging.getLogger("app.access")

CLIENT_CLOSED = 499
ANONYMOUS = "anonymous"


class AccessMiddleware:
    """Counts, times and logs every HTTP request; adds `Server-Timing` to every answer.

    `Server-Timing: gateway;dur=X, bedrock;dur=Y` (milliseconds, up to the answer's start):
    `bedrock` is the time at least one Bedrock call was in flight, `gateway` everything else
    (reading and checking the body, waiting for a slot, pauses between retries, encoding).
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics, log_prompts: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_prompts = log_prompts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        facts = request_facts.begin()
        status = CLIENT_CLOSED

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                gateway_ms = (time.monotonic() - started - facts.upstream_s) * 1000
                headers = MutableHeaders(scope=message)
                headers.append(
                    "Server-Timing",
                    f"gateway;dur={max(0.0, gateway_ms):.1f}, "
                    f"bedrock;dur={facts.upstream_s * 1000:.1f}",
                )
                if facts.settled and facts.cost_micros is not None:
                    # Every surface's answer says what it cost, whatever its body's shape.
                    headers["Cost-USD"] = cost_usd(facts.cost_micros)
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, timed_send)
        except BaseException:
            if status == CLIENT_CLOSED:
                status = 500  # what the server answers for an error that escaped the app
            raise
        finally:
            self.metrics.in_flight.dec()
            self._record(scope, facts, status, time.monotonic() - started)

    def _record(
        self, scope: Scope, facts: request_facts.RequestFacts, status: int, seconds: float
    ) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method: str = scope["method"]
        key = key_name(scope)
        m = self.metrics
        m.requests.labels(route, method, str(status), key).inc()
        m.request_seconds.labels(route, method).observe(seconds)
        if facts.images and facts.model is not None and status < 400:
            m.images.labels(facts.model).inc(facts.images)
        if status == 429 and facts.problem == "quota-exceeded":
            m.quota_rejections.labels(key).inc()
        line: dict[str, Any] = {
            "request_id": scope.get("state", {}).get("request_id"),
            "key": key,
            "method": method,
            "path": scope["path"],
            "route": route,
            "model": facts.model,
            "task": facts.task,
            "n": facts.n,
            "images": facts.images,
            "status": status,
            "problem": facts.problem,
            "cost_usd": float(cost_usd(facts.cost_micros))
            if facts.cost_micros is not None
            else None,
            "upstream_ms": round(facts.upstream_s * 1000, 1),
            "total_ms": round(seconds * 1000, 1),
        }
        if self.log_prompts and facts.prompt is not None:
            line["prompt"] = facts.prompt
        log.info(orjson.dumps(line).decode(), extra={"access": line})


def cost_usd(micros: int) -> str:
    """Micro-dollars as the Cost-USD header and the log line write them: dollars, 6 decimals at
    most, no trailing zeros (`0.14`, `0`)."""
    text = f"{micros / 1_000_000:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def key_name(scope: Scope) -> str:
    """The name of the API key the auth middleware bound to the request (`anonymous` when none):
    never the key itself."""
    key = scope.get("state", {}).get("api_key")
    name = getattr(key, "name", None)
    return name if isinstance(name, str) else ANONYMOUS
