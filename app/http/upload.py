"""Reading a request's body whole, for every surface: a caller who hangs up is a 499, not an error.

The bounds on the upload (its size, its deadline, the byte budget) act in the middleware as the
bytes arrive and are raised from here as the gateway's own ProblemErrors, so each surface answers
them in its shape. A hang-up is one too: ProblemError 499 (nginx's "client closed request"),
which the surfaces render like any refusal; nobody reads that answer, but the access line and
the metrics record it, and no error is logged for what is the caller's choice.
"""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from ..observability.facts import note_problem
from ..problems import ProblemError
from ..problems.types import CLIENT_CLOSED_REQUEST


class ClientClosed(ProblemError):
    """499 client-closed-request: the caller hung up before its body was read."""

    def __init__(self) -> None:
        super().__init__(
            *CLIENT_CLOSED_REQUEST.head,
            detail="the connection closed before the whole body arrived",
        )


async def read_upload(request: Request) -> bytes:
    """The whole body, read chunk by chunk (not request.body(): the request would keep its copy
    of the upload to the end); ClientClosed when the caller hangs up first."""
    try:
        return b"".join([chunk async for chunk in request.stream()])
    except ClientDisconnect:
        note_problem("client-closed-request")
        raise ClientClosed() from None
