"""Browser callers: CORS from the settings' allow-list, and security headers on every answer.

CORS is Starlette's `CORSMiddleware`, configured by `cors_options`, which refuses a configuration a
browser would make unsafe ("*" with credentials) or that could never match (an origin with a path).
The origins are the boundary: any request header is allowed from an allowed origin, because the
three surfaces' SDKs send their own (`X-API-Key`, `x-stainless-*`, `X-Amz-*`, `amz-sdk-*`).

`SecurityHeaders` (pure ASGI) adds to every answer: `X-Content-Type-Options: nosniff`,
`Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` and a Content-Security-Policy that lets an
answer load nothing and be framed by nobody. The documentation pages (/docs, /redoc) need scripts
and styles from jsDelivr: they get a policy naming those hosts and allowing their inline scripts by
hash, computed from the page itself, so no other inline script can run there. HSTS is sent only on
answers to requests that came over HTTPS (uvicorn's TLS, or a trusted proxy's X-Forwarded-Proto):
over plain HTTP browsers ignore it, and only the TLS end knows which hosts it covers.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Collection
from typing import TypedDict

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import Settings

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
    "x-amzn-RequestId",
    "x-amzn-ErrorType",
    "retry-after-ms",
    "x-should-retry",
)

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The FastAPI documentation pages: Swagger UI and ReDoc from jsDelivr, ReDoc's fonts from Google,
# the favicon from fastapi.tiangolo.com, the spec and "Try it out" calls from here. Inline styles
# are allowed (Swagger UI and ReDoc set them); inline scripts only by the hashes added per page.
_DOCS_POLICY = (
    "default-src 'none'; "
    "script-src https://cdn.jsdelivr.net{hashes}; "
    "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; "
    "worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)
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
    """Adds the security headers to every HTTP answer; `docs_paths` get the documentation policy.

    A header an answer already has is left as it is.
    """

    def __init__(self, app: ASGIApp, *, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        if root and path.startswith(root):
            path = path[len(root) :]
        if path in self.docs_paths:
            await self.app(scope, receive, _DocsPage(send, https).send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add(message, API_POLICY, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _DocsPage:
    """Holds a documentation page's answer until its body is whole, to hash its inline scripts."""

    def __init__(self, send: Send, https: bool) -> None:
        self._send = send
        self._https = https
        self._start: Message | None = None
        self._body: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self._body)
        _add(self._start, _docs_policy(body), self._https)
        MutableHeaders(scope=self._start)["content-length"] = str(len(body))
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": body})


def _docs_policy(page: bytes) -> str:
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return _DOCS_POLICY.format(hashes=hashes)


def _add(start: Message, policy: str, https: bool) -> None:
    headers = MutableHeaders(scope=start)
    for name, value in _ALWAYS.items():
        headers.setdefault(name, value)
    headers.setdefault("Content-Security-Policy", policy)
    if https:
        headers.setdefault("Strict-Transport-Security", _HSTS)
