"""Every pure-ASGI middleware of the gateway, and their order, here in one place.

Pure ASGI rather than BaseHTTPMiddleware: no task per request, and a refusal can be answered
while the body streams in, before any of it is held. Middlewares answer their own refusals before
routing, so each is handed `answer`, which renders a problem in the shape of the surface the path
belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Scope

from ..auth.keys import ApiKey
from ..observability.metrics import Metrics
from ..problems import ProblemError
from ..settings import Settings
from .access import AccessMiddleware
from .auth import ApiKeyAuth
from .browser import SecurityHeaders, cors_options
from .cache_status import CacheStatusHeader
from .cancellation import CancelOnDisconnect
from .capacity import CapacityLimit
from .heads import HeaderLimit
from .idempotency import IdempotentRequests
from .request_context import RequestContextMiddleware

Refusal = Callable[[ProblemError, Scope], Response]


def install_middleware(
    app: FastAPI,
    settings: Settings,
    *,
    keys: tuple[ApiKey, ...],
    metrics: Metrics,
    pages: Mapping[str, str],
    answer: Refusal,
) -> None:
    """Wrap `app` in every middleware, the first listed outermost."""
    layers: list[tuple[type[Any], dict[str, Any]]] = [
        # Outermost: counts, logs and times every answer, the other middlewares' refusals included.
        (AccessMiddleware, {"metrics": metrics, "log_prompts": settings.log_prompts}),
        # Outside the request id: it only adds headers, so the body cap's own 413 carries them too.
        (SecurityHeaders, {"pages": pages}),
        # The request id and body cap wrap everything below, so every answer, a gateway-busy
        # refusal included, carries X-Request-ID.
        (
            RequestContextMiddleware,
            {"max_body_bytes": settings.max_body_bytes, "answer": answer},
        ),
        # Before CORS and auth: an oversized head is refused before anything reads its headers.
        (
            HeaderLimit,
            {
                "max_bytes": settings.max_header_bytes,
                "max_count": settings.max_header_count,
                "timeout_s": settings.header_read_timeout_s,
                "answer": answer,
            },
        ),
        # Before auth: CORS answers preflights (browsers send no key with them) and marks
        # refusals readable by the calling page.
        (CORSMiddleware, dict(cors_options(settings))),
        # Outside the capacity cap: a caller without a key takes no slot.
        (ApiKeyAuth, {"keys": keys, "answer": answer}),
        # Around everything that does work: requests in flight and body bytes as they arrive.
        (
            CapacityLimit,
            {
                "limit": settings.max_requests_in_flight,
                "body_bytes": settings.max_body_bytes_in_flight,
                "wait_s": settings.queue_timeout_s,
                "read_timeout_s": settings.body_read_timeout_s,
                "answer": answer,
            },
        ),
        # Inside capacity: a waiting retry holds a slot. Outside the disconnect watcher: a first
        # request with an Idempotency-Key runs to its end whatever its caller does, for the retry.
        (IdempotentRequests, {"answer": answer}),
        # Inside idempotency: a replay does not pass through the result cache, so it carries no
        # Cache-Status of its own.
        *([(CacheStatusHeader, {})] if settings.cache else []),
        # Innermost: it watches for a disconnect only once the route has read the whole body.
        (CancelOnDisconnect, {}),
    ]
    # Starlette puts the last added outermost.
    for layer, options in reversed(layers):
        app.add_middleware(layer, **options)
