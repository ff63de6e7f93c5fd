"""The retry rules alone (app/bedrock/retry.py): which failures are tried again and count as
outages, and the jittered pause before each round, drawn from a seeded generator."""

from __future__ import annotations

import random
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from app.bedrock.retry import (
    CONNECT_TIMEOUT,
    CONNECTION,
    READ_TIMEOUT,
    Backoff,
    Verdict,
    classify,
)


def answered(code: str, status: int) -> ClientError:
    """The exception botocore raises for an error answer with this code and HTTP status."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "InvokeModel")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "retryable", "outage"),
    [
        ("ThrottlingException", 429, True, False),
        ("ModelNotReadyException", 429, True, False),
        ("InternalServerException", 500, True, True),
        ("ServiceUnavailableException", 503, True, True),
        ("ModelTimeoutException", 408, True, True),
        ("SomethingNewException", 502, True, True),
        ("ModelErrorException", 424, False, False),
        ("ModelErrorException", 500, False, False),
        ("ValidationException", 400, False, False),
        ("AccessDeniedException", 403, False, False),
        ("ResourceNotFoundException", 404, False, False),
        ("ServiceQuotaExceededException", 400, False, False),
    ],
)
def test_error_answers(code: str, status: int, retryable: bool, outage: bool) -> None:
    assert classify(answered(code, status)) == Verdict(retryable, code, outage)


def test_an_answer_without_a_code_is_an_unknown_error() -> None:
    response: dict[str, Any] = {"Error": {}, "ResponseMetadata": {"HTTPStatusCode": 503}}
    error = ClientError(response, "InvokeModel")  # type: ignore[arg-type]
    assert classify(error) == Verdict(retryable=True, cause="UnknownError", outage=True)


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), READ_TIMEOUT),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), CONNECT_TIMEOUT),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), CONNECTION),
        (aiohttp.ServerDisconnectedError(), CONNECTION),
        (ConnectionResetError(), CONNECTION),
    ],
)
def test_transport_failures_are_retried_outages(exc: BaseException, cause: str) -> None:
    assert classify(exc) == Verdict(retryable=True, cause=cause, outage=True)


@pytest.mark.parametrize("exc", [ValueError("a bug"), KeyError("k"), TimeoutError()])
def test_other_exceptions_are_not_bedrocks(exc: BaseException) -> None:
    assert classify(exc) is None


def test_each_pause_is_drawn_below_the_doubling_ceiling() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, rng=random.Random(7))
    expected = random.Random(7)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    pauses = [backoff.pause(n) for n in range(len(ceilings))]
    assert pauses == [expected.uniform(0.0, c) for c in ceilings]
    assert all(0.0 <= p <= c for p, c in zip(pauses, ceilings, strict=True))


def test_a_late_round_stays_at_the_cap() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, rng=random.Random(1))
    expected = random.Random(1)
    assert backoff.pause(10_000) == expected.uniform(0.0, 4.0)


def test_pauses_spread_over_the_whole_interval() -> None:
    backoff = Backoff(base_s=1.0, cap_s=1.0, rng=random.Random(3))
    pauses = [backoff.pause(0) for _ in range(1000)]
    assert min(pauses) < 0.05
    assert max(pauses) > 0.95
    assert 0.4 < sum(pauses) / len(pauses) < 0.6


@pytest.mark.parametrize(("base_s", "cap_s"), [(0.0, 4.0), (0.5, 0.0)])
def test_no_pause_when_the_ceiling_is_zero(base_s: float, cap_s: float) -> None:
    backoff = Backoff(base_s=base_s, cap_s=cap_s, rng=random.Random(0))
    assert [backoff.pause(n) for n in range(4)] == [0.0] * 4
