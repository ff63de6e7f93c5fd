"""Which failed Bedrock calls are worth another attempt, and how long to pause between rounds.

Retried (transient: the same call can succeed a moment later, here or in another region):
ThrottlingException, ModelNotReadyException, InternalServerException, ServiceUnavailableException,
ModelTimeoutException, any other 5xx answer, read and connect timeouts, and connections that
cannot be made or break mid-answer. Never retried: ValidationException (and content filtering),
AccessDeniedException, ResourceNotFoundException, ServiceQuotaExceededException (a quota does not
come back within one request), and ModelErrorException: the model failed on this input, and
Bedrock's own advice for it is to change the request, so a retry would mostly pay for the same
failure again.

Outages (what a circuit breaker counts): 5xx answers, timeouts and connection failures. Throttling
and a model not ready yet are Bedrock saying "not now" from a region that is up: they move the
call to the next region but never open its circuit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import aiohttp
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

# Causes of transport failures (Bedrock's own error code names the others).
READ_TIMEOUT = "ReadTimeout"
CONNECT_TIMEOUT = "ConnectTimeout"
CONNECTION = "ConnectionError"

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ModelNotReadyException",
        "InternalServerException",
        "ServiceUnavailableException",
        "ModelTimeoutException",
    }
)
_NOT_NOW_CODES = frozenset({"ThrottlingException", "ModelNotReadyException"})


@dataclass(frozen=True)
class Verdict:
    """What one failed call says: whether to try again, why it failed, and whether it counts
    against the region's circuit."""

    retryable: bool
    cause: str
    outage: bool


def classify(exc: BaseException) -> Verdict | None:
    """The verdict on a failed Bedrock call; None for an exception that is not Bedrock's (a bug,
    or a cancellation), which must propagate untouched."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "")) or "UnknownError"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_NOW_CODES:
            return Verdict(retryable=True, cause=code, outage=False)
        server_side = isinstance(status, int) and status >= 500
        if code in _TRANSIENT_CODES or (server_side and code != "ModelErrorException"):
            return Verdict(retryable=True, cause=code, outage=True)
        return Verdict(retryable=False, cause=code, outage=False)
    if isinstance(exc, ReadTimeoutError):
        return Verdict(retryable=True, cause=READ_TIMEOUT, outage=True)
    if isinstance(exc, ConnectTimeoutError):
        return Verdict(retryable=True, cause=CONNECT_TIMEOUT, outage=True)
    if isinstance(exc, BotoCoreError | aiohttp.ClientError | ConnectionError):
        return Verdict(retryable=True, cause=CONNECTION, outage=True)
    return None


class Backoff:
    """Full jitter (AWS's "Exponential Backoff And Jitter"): the pause before round `n` (from 0)
    is uniform(0, min(cap, base * 2**n)), so callers retrying together spread out."""

    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.rng = rng or random.Random()

    def pause(self, round_index: int) -> float:
        """Seconds to wait before round `round_index` starts again from the first region."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(round_index, 64))
        return self.rng.uniform(0.0, ceiling) if ceiling > 0 else 0.0
