"""The same generated requests while Bedrock fails: the error answers must be what the spec says.

The emulator answers a seeded share of calls with every Bedrock error code and cuts some
connections; one model is retired. The gateway makes one attempt per call, so each fault reaches
the caller: 5xx answers are expected here, and each must carry the status, headers (Retry-After on
429 and 503) and problem body the spec documents. Positive data only, made realistic (real
models and images) so that it gets past validation: invalid requests never reach Bedrock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from emulator.testing import EmulatorServer
from tests.support.fuzz_realistic import realistic
from tests.support.fuzz_spec import CONFORMANCE, REQUEST_TIMEOUT_S, load_schema
from tests.support.gateway import settings_for
from tests.support.live import GatewayServer

FAULT_RATE = 0.06
FAULTS = (
    "ValidationException",
    "ServiceQuotaExceededException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ModelTimeoutException",
    "ModelErrorException",
    "ThrottlingException",
    "ModelNotReadyException",
    "InternalServerException",
    "ServiceUnavailableException",
    "DropConnection",
)
# One of the models realistic() names for text-to-image: its answer is a 410.
RETIRED = "stability.sd3-5-large-v1:0"

SCHEMA = load_schema()
SCHEMA.config.phases.update(phases=["fuzzing"])
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE])


@pytest.fixture(scope="module")
def failing_gateway(emulator_server: EmulatorServer) -> Iterator[GatewayServer]:
    """The gateway, one attempt per call, in front of an emulator that fails now and then."""
    emulator_server.reset()
    emulator_server.set_faults(rates=dict.fromkeys(FAULTS, FAULT_RATE), seed=6)
    emulator_server.set_retired([RETIRED])
    try:
        with GatewayServer(settings_for(emulator_server, max_attempts=1)) as server:
            yield server
    finally:
        emulator_server.reset()


@SCHEMA.given(data=st.data())
@SCHEMA.parametrize()
def test_error_answers_are_what_the_spec_documents(
    case: Case[Any], data: st.DataObject, failing_gateway: GatewayServer
) -> None:
    case.call_and_validate(
        base_url=failing_gateway.url,
        headers=realistic(case, data),
        checks=CONFORMANCE,
        timeout=REQUEST_TIMEOUT_S,
    )
