"""One caller's poisoned body cannot open a model's circuit for everyone (issue 17, finding 4), and
/readyz says which circuits are open (finding 8), on `python -m app`.

The rule: a 5xx answer counts toward the circuit once per distinct body in a run of failures (the
same request's retries, or the same body sent again, add nothing); ModelErrorException never
counts. Bedrock failing the same way for many different bodies still opens it. The emulator's
`poison` faults fail every call whose body holds a marker, every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.testing import EmulatorServer
from tests.support.served import ServedGateway

TITAN = "amazon.titan-image-generator-v1"
T2I = "/v1/images/text-to-image"


def kite(prompt: str, seed: int = 5) -> dict[str, Any]:
    return {"model": "titan", "prompt": prompt, "width": 512, "height": 512, "seed": seed}


@pytest.fixture
def gateway(emulator: EmulatorServer) -> Iterator[ServedGateway]:
    # Five failures in a row open a circuit (the default); no pause between retries.
    with ServedGateway(emulator, GATEWAY_RETRY_BASE_S="0") as served:
        yield served


def circuits(client: httpx.Client) -> list[dict[str, Any]]:
    ready = client.get("/readyz")
    assert ready.status_code == 200  # open circuits do not make the replica unready
    listed: list[dict[str, Any]] = ready.json()["open_circuits"]
    return listed


def test_a_body_bedrock_fails_again_and_again_counts_once(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    emulator.set_faults(poison=[{"fault": "InternalServerException", "marker": "poisoned"}])
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        # Light traffic: the poisoned caller retries its request between other callers'.
        for round_ in range(4):
            poisoned = client.post(T2I, json=kite("a poisoned kite"))
            assert poisoned.status_code == 503
            assert poisoned.json()["upstream_error"] == "InternalServerException"
            other = client.post(T2I, json=kite(f"a red kite {round_}"))
            assert other.status_code == 200, other.text
        # Then alone, over and over: seven requests, 21 failed calls, one failure to the breaker.
        for _ in range(7):
            assert client.post(T2I, json=kite("a poisoned kite")).status_code == 503
        assert circuits(client) == []
        assert gateway.metric("gateway_circuit_failures", model=TITAN, region="us-east-1") == 1
        after = client.post(T2I, json=kite("a blue kite"))
        assert after.status_code == 200, after.text
    calls = emulator.requests()
    assert sum(1 for c in calls if c["error_code"] == "InternalServerException") == 11 * 3
    assert gateway.metric("gateway_circuit_transitions_total", model=TITAN, state="open") == 0
    assert gateway.metric("gateway_bedrock_rejections_total", reason="circuit-open") == 0


def test_a_poisoned_body_counts_once_whatever_its_seed(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    """Seeds aside: the caller sends none, so the gateway picks a new one for every request."""
    emulator.set_faults(poison=[{"fault": "InternalServerException", "marker": "poisoned"}])
    unseeded = {"model": "titan", "prompt": "a poisoned kite", "width": 512, "height": 512}
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        for _ in range(7):
            assert client.post(T2I, json=unseeded).status_code == 503
        assert circuits(client) == []
        assert gateway.metric("gateway_circuit_failures", model=TITAN, region="us-east-1") == 1
    seeds = {c["body"]["imageGenerationConfig"]["seed"] for c in emulator.requests()}
    assert len(seeds) == 7  # one per request, kept across its three attempts


def test_a_model_error_never_counts(gateway: ServedGateway, emulator: EmulatorServer) -> None:
    emulator.set_faults(poison=[{"fault": "ModelErrorException", "marker": "troubling"}])
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        for seed in range(8):
            refused = client.post(T2I, json=kite("a troubling kite", seed))
            assert refused.status_code >= 400
            assert refused.json()["upstream_error"] == "ModelErrorException"
        assert circuits(client) == []
        assert client.post(T2I, json=kite("a red kite")).status_code == 200
    # Not retried: the model failed on this input.
    assert len(emulator.requests()) == 9


def test_different_bodies_failing_open_it_and_readyz_says_so(
    gateway: ServedGateway, emulator: EmulatorServer
) -> None:
    emulator.set_faults(poison=[{"fault": "ServiceUnavailableException", "marker": "kite"}])
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        for n in range(5):
            assert client.post(T2I, json=kite(f"a kite, number {n}")).status_code == 503
        fast = client.post(T2I, json=kite("a kite, number 99"))
        assert fast.status_code == 503
        assert fast.json()["type"] == "/problems/circuit-open"
        [circuit] = circuits(client)
    assert (circuit["target"], circuit["region"], circuit["state"]) == (TITAN, "us-east-1", "open")
    assert circuit["failures"] == 5
    assert 1 <= circuit["retry_after_s"] <= 30
