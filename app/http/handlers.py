"""Exception handlers: every error the app answers, FastAPI's own included, is problem+json."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ..problems import FieldProblem, ProblemError, field_name, invalid, problem_response, types

log = logging.getLogger("app.errors")

# Starlette's own HTTP errors by status: the types the gateway's own problems use for them.
_HTTP_PROBLEMS = {
    kind.status: kind
    for kind in (
        types.BAD_REQUEST,
        types.NOT_FOUND,
        types.METHOD_NOT_ALLOWED,
        types.NOT_ACCEPTABLE,
        types.PAYLOAD_TOO_LARGE,
        types.UNSUPPORTED_MEDIA_TYPE,
    )
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that make every error problem+json."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(exc, request.scope)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind = _HTTP_PROBLEMS.get(exc.status_code, types.HTTP_ERROR)
        problem = ProblemError(*kind.head, detail=str(exc.detail), headers=dict(exc.headers or {}))
        problem.status = exc.status_code  # http-error: whatever status Starlette raised
        return problem_response(problem, request.scope)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldProblem(field=field_name(tuple(e["loc"])), message=str(e["msg"]))
            for e in exc.errors()
        ]
        return problem_response(invalid(errors), request.scope)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        problem = types.INTERNAL_ERROR.error(
            "the gateway failed unexpectedly; the request id identifies it in the logs"
        )
        return unexpected(request, lambda: problem_response(problem, request.scope))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)


def unexpected(request: Request, answer: Callable[[], Response]) -> Response:
    """The answer to a bug (an exception nothing expected), in the surface's shape: `answer()`.
    Logged here with its trace for the operator; the caller's answer carries none. The OpenAI
    and Bedrock surfaces call this from their routes: Starlette's catch-all handler answers
    outside every middleware, in the native shape."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return answer()
