"""The one check of a problem+json answer (RFC 9457), and of a refused request's 422."""

from __future__ import annotations

from typing import Any

import httpx

from emulator.testing import EmulatorServer


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """A problem+json answer with this status and type, a title and the request id, and no
    traceback; returns the problem."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == f"/problems/{slug}"
    assert problem["title"]
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return problem


def assert_invalid(response: httpx.Response, emulator: EmulatorServer, *fields: str) -> None:
    """A 422 validation problem naming exactly `fields`, and no Bedrock call made."""
    problem = assert_problem(response, 422, "validation-error")
    assert sorted(e["field"] for e in problem["errors"]) == sorted(fields)
    assert emulator.requests() == []
