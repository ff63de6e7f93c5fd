"""Property-based requests from openapi/openapi.json against the live gateway (issue 6).

Every operation of the committed spec (the 14 image tasks, JSON and multipart, and GET
/v1/models) gets the spec's examples, the coverage phase and random positive and negative data,
sent over HTTP to the app under uvicorn, which calls the emulator: no answer may be a 5xx, and
every answer's status, content type, headers and body must be what the spec documents. A second
run sends random data made realistic (real models and images, Accept headers) so that requests
also get past validation and come back with images, as JSON or bytes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from schemathesis import Case

from tests.support.fuzz_realistic import realistic
from tests.support.fuzz_spec import REQUEST_TIMEOUT_S, checks_for, load_schema
from tests.support.live import GatewayServer

SCHEMA = load_schema()
REALISTIC = load_schema()
# Hypothesis draws the realistic values, which only the fuzzing phase lets it do.
REALISTIC.config.phases.update(phases=["fuzzing"])


@SCHEMA.parametrize()
def test_answers_are_what_the_spec_documents(case: Case[Any], live_gateway: GatewayServer) -> None:
    case.call_and_validate(
        base_url=live_gateway.url, checks=checks_for(case), timeout=REQUEST_TIMEOUT_S
    )


@REALISTIC.given(data=st.data())
@REALISTIC.parametrize()
def test_realistic_answers_are_what_the_spec_documents(
    case: Case[Any], data: st.DataObject, live_gateway: GatewayServer
) -> None:
    headers = realistic(case, data)
    case.call_and_validate(
        base_url=live_gateway.url,
        headers=headers,
        checks=checks_for(case),
        timeout=REQUEST_TIMEOUT_S,
    )
