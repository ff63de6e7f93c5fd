"""Browser callers: CORS from the settings' allow-list, and security headers on every answer.

CORS is Starlette's `CORSMiddleware`, configured by `cors_options`, which refuses a configuration a
browser would make unsafe ("*" with credentials) or that could never match (an origin with a path).
The origins are the boundary: any request header is allowed from an allowed origin, because the
three surfaces' SDKs send their own (`X-API-Key`, `x-stainless-*`, `X-Amz-*`, `amz-sdk-*`).

`SecurityHeaders` (pure ASGI) adds to every answer: `X-Content-Type-Options: nosniff`,
`Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` and a Content-Security-Policy that lets an
answer load nothing and be framed by nobody. The gateway's own pages (/docs, /redoc, /playground)
get a policy of their own: scripts, styles and images from the gateway alone, calls to the gateway
alone, no inline script and no eval anywhere (their scripts are files the gateway serves). HSTS is
sent only on answers to requests that came over HTTPS (uvicorn's TLS, or a trusted proxy's
X-Forwarded-Proto): over plain HTTP browsers ignore it, and only the TLS end knows which hosts it
covers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypedDict

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings

_ORIGIN = re.compile(r"^https?://[^/?#\s@]+$")
# Headers browsers hide from scripts unless listed: what callers need to read from our answers.
EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Server-Timing",
    "WWW-Authenticate",
    "Served-Model",
    "Seed",
    "Finish-Reason",
    "Warning",
    "Deprecation",
    "Images-Failed",
    "Idempotent-Replayed",
    "Cache-Status",
    "x-amzn-RequestId",
    "x-amzn-ErrorType",
    "retry-after-ms",
    "x-should-retry",
)

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
_PAGE = "; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc (from the fastapi-offline package, served under /static/vendor) set inline
# styles, render the answers "Try it out" gets as blob: images, and ReDoc searches in a blob:
# worker; their scripts are files, so no inline script may run.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src blob:" + _PAGE
)
# The playground: ES modules and a stylesheet from /static, the answers' images as data: URLs
# (uploads are drawn on canvases, not loaded as images); the page sets no inline style either.
PLAYGROUND_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'" + _PAGE
)
_HSTS = "max-age=31536000"
_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class BrowserPolicyError(ValueError):
    """The CORS settings are unsafe or can never match a browser's Origin."""


class CorsOptions(TypedDict):
    """Keyword arguments for Starlette's CORSMiddleware."""

    allow_origins: tuple[str, ...]
    allow_credentials: bool
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int


def cors_options(settings: Settings) -> CorsOptions:
    """CORSMiddleware's options from `settings`; raises BrowserPolicyError on a bad allow-list."""
    origins = tuple(settings.cors_origins)
    if "*" in origins and settings.cors_allow_credentials:
        raise BrowserPolicyError(
            'GATEWAY_CORS_ORIGINS has "*" while GATEWAY_CORS_ALLOW_CREDENTIALS is true: any web '
            "page could call the gateway with its visitors' credentials; list the origins instead"
        )
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise BrowserPolicyError(
                f"GATEWAY_CORS_ORIGINS: {origin!r} is not an origin: write scheme://host[:port], "
                "without a path or a trailing slash (what browsers send in Origin)"
            )
    return CorsOptions(
        allow_origins=origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=("GET", "HEAD", "POST"),
        allow_headers=("*",),
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )


class SecurityHeaders:
    """Adds the security headers to every HTTP answer; `pages` maps a path to its own policy.

    A header an answer already has is left as it is.
    """

    def __init__(self, app: ASGIApp, *, pages: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.pages = dict(pages or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        if root and path.startswith(root):
            path = path[len(root) :]
        policy = self.pages.get(path, API_POLICY)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add(message, policy, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add(start: Message, policy: str, https: bool) -> None:
    headers = MutableHeaders(scope=start)
    for name, value in _ALWAYS.items():
        headers.setdefault(name, value)
    headers.setdefault("Content-Security-Policy", policy)
    if https:
        headers.setdefault("Strict-Transport-Security", _HSTS)
