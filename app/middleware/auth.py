"""Pure-ASGI middleware: every request that does work must carry a configured API key.

The key is read from `X-API-Key` when that header is present, else from `Authorization: Bearer`
(what the OpenAI SDK sends, and boto3 when AWS_BEARER_TOKEN_BEDROCK is set). X-API-Key comes
first so a caller behind a proxy that uses Authorization for its own purposes can still send one.
A request without a valid key is refused 401 before its body is read, in its surface's shape,
with `WWW-Authenticate: Bearer realm="bedrock-image-gateway"`. With no keys configured every
request passes as ANONYMOUS.

Paths that spend nothing and reveal no caller's data need no key: the health checks (load
balancers probe them without credentials), /metrics (scraped by Prometheus from inside the
network), the API's own documentation (/docs, /redoc, /openapi.json: the committed spec), the
root page that links them (/), the playground page and the files these pages load (/static/...):
the calls they make carry a key.
OPTIONS needs none either: browsers never send credentials on a CORS preflight.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth.keys import ANONYMOUS, ApiKey, Unauthorized, find_key
from ..problems import ProblemError, problem_response

OPEN_PATHS = frozenset(
    {
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/playground",
    }
)
# Result files (/v1/files/...) carry their own signature, as a presigned URL does: an <img> or
# a download tool fetches them without a key.
OPEN_PREFIXES = ("/static/", "/v1/files/")
CHALLENGE = 'Bearer realm="bedrock-image-gateway"'
_MISSING = "an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
_NOT_BEARER = (
    "the Authorization header is not a Bearer token (request signatures are not accepted): send "
    "the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'; boto3 sends it from "
    "AWS_BEARER_TOKEN_BEDROCK"
)
_UNKNOWN = "the API key is not valid"


class ApiKeyAuth:
    """Binds the caller's key to `scope["state"]["api_key"]`, or answers 401.

    `answer` renders the refusal for the request's surface (problem+json by default); the
    challenge header is set on whatever it renders.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: tuple[ApiKey, ...],
        answer: Callable[[ProblemError, Scope], Response] = problem_response,
    ) -> None:
        self.app = app
        self.keys = keys
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not self.keys:
            state["api_key"] = ANONYMOUS
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] == "OPTIONS" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        key, refusal = self._authenticate(scope)
        if key is None:
            response = self.answer(Unauthorized(refusal), scope)
            response.headers["WWW-Authenticate"] = CHALLENGE
            await response(scope, receive, send)
            return
        state["api_key"] = key
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> tuple[ApiKey | None, str]:
        """The key the request carries, or None and why it is refused (never echoing the key)."""
        presented = _presented(scope)
        if presented is None:
            return None, _MISSING
        if isinstance(presented, _NotBearer):
            return None, _NOT_BEARER
        key = find_key(self.keys, presented) if presented else None
        return key, _UNKNOWN


class _NotBearer:
    """An Authorization header of another scheme (e.g. a SigV4 signature) and no X-API-Key."""


def _presented(scope: Scope) -> str | _NotBearer | None:
    api_key: str | None = None
    authorization: str | None = None
    for name, value in scope["headers"]:
        if name == b"x-api-key" and api_key is None:
            api_key = value.decode("latin-1").strip()
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1").strip()
    if api_key is not None:
        return api_key
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return _NotBearer()
    return token.strip()
