"""RFC 9457 problem details: the one error shape every surface of the native API answers with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import Scope

PROBLEM_JSON = "application/problem+json"

# Errors listed in one answer: a body of a thousand unknown keys gets the first ones and a count,
# not a thousand entries (every surface lists a problem's errors in its own shape).
MAX_LISTED_ERRORS = 20


class FieldProblem(BaseModel):
    """One bad field: where it is and what is wrong with it."""

    field: str = Field(examples=["width"])
    message: str = Field(examples=["must be one of the sizes the model accepts"])


class Problem(BaseModel):
    """The body of every error answer (`application/problem+json`)."""

    type: str = Field(examples=["/problems/validation-error"])
    title: str = Field(examples=["The request is not valid"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["2 fields are not valid for amazon.titan-image-generator-v1"])
    instance: str | None = Field(default=None, examples=["/v1/images/text-to-image"])
    request_id: str | None = Field(default=None, examples=["6f1c2a9e0b7d4c1e8f3a2b5c4d6e7f80"])
    errors: list[FieldProblem] | None = None
    error_count: int | None = Field(
        default=None,
        description=(
            f"How many fields are not valid, when more than the first {MAX_LISTED_ERRORS} are "
            "listed."
        ),
        examples=[1000],
    )


@dataclass
class ProblemError(Exception):
    """An error the gateway answers on purpose; the handler turns it into problem+json."""

    status: int
    slug: str
    title: str
    detail: str
    errors: list[FieldProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.slug}: {self.detail}"

    def body(self, instance: str | None, request_id: str | None) -> dict[str, Any]:
        """The problem document, ready to serialise."""
        doc: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "request_id": request_id,
        }
        if self.errors:
            doc["errors"] = [e.model_dump() for e in self.errors]
        doc.update(self.extra)
        return doc


def request_id_of(scope: Scope) -> str | None:
    """The request id the middleware bound to this request."""
    state: dict[str, Any] = scope.get("state", {})
    rid = state.get("request_id")
    return rid if isinstance(rid, str) else None


def problem_response(problem: ProblemError, scope: Scope) -> Response:
    """Render a ProblemError for the request in `scope`."""
    body = problem.body(scope.get("path"), request_id_of(scope))
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def field_name(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as callers write it: `images[2]`, `body.width` -> `width`."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"
